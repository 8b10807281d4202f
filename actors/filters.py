"""Filters shared by the FilterSets of every app."""

import django_filters as filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

# The largest primary key the databases store (a signed 64-bit integer).
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A primary key (`municipality_id=12`): a whole number the database can hold. Anything
    else is refused with a message saying so (400 in the API) instead of reaching the
    database, which would fail on numbers beyond its range."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
