"""Filters shared by the FilterSets of every app: ids, and municipalities and counties by
any number they have had (today's, or an earlier one read through `MunicipalityNumbers`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import django_filters as filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey, Lookup, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.constants import EMPTY_VALUES
from django_filters.fields import ModelChoiceField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import County, Municipality
from .numbers import resolve_number
from .structure import StructureOn

# The largest primary key the databases store (a signed 64-bit integer).
MAX_ID = 2**63 - 1

# The parameters by which a list asks about a past day (rollout's `as_of`, the municipality
# page's `dato`, the API's `date`): a county or municipality number is then also read as
# it was on that day.
DAY_PARAMS = ("as_of", "dato", "date")


@ForeignKey.register_lookup
class AmongHashed(Lookup):
    """`organisation__among=<queryset of ids>`: the rows whose key is among a subquery's,
    for long histories read newest first. PostgreSQL would turn `IN (subquery)` into a
    join that looks each row's organisation up by its key, or `= ANY(ARRAY(subquery))`
    into a scan of the whole array per row when it misjudges a cursor's condition (both
    measured at 10x: 22 ms and 90 ms for Bergen's registry changes). Written
    `NOT (key NOT IN (subquery))` it stays a subplan whose keys are hashed once, so each
    row costs one hash lookup wherever the walk starts. Keys are never NULL here, so both
    spellings mean the same."""

    lookup_name = "among"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"NOT ({lhs} NOT IN {rhs})", (*lhs_params, *rhs_params)


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


def structure_day(filterset) -> datetime.date | None:
    """The day a filterset's data asks about (one of DAY_PARAMS), None for today. A date
    that does not parse counts as none here; its own field reports it."""
    data = getattr(filterset, "data", None) or {}
    for name in DAY_PARAMS:
        try:
            return datetime.date.fromisoformat(str(data.get(name) or "").strip())
        except ValueError:
            continue
    return None


def _date(day: datetime.date) -> str:
    return day.strftime("%d.%m.%Y")


def refusal(text: str) -> ValidationError:
    """A refusal whose text may hold what the user typed, "%" included: the text goes in
    as a parameter, so neither the form nor DRF's translation formats it again."""
    return ValidationError("%(text)s", code="invalid_choice", params={"text": text})


class _DayMixin:
    """A filter whose field knows the day the filterset asks about (`field.day`)."""

    @property
    def field(self):
        if not hasattr(self, "_field"):
            day = structure_day(getattr(self, "parent", None))
            field = super().field
            field.day = day
            self.prepare_field(field, day)
        return self._field

    def prepare_field(self, field, day) -> None:
        pass


class MunicipalityNumberField(ModelChoiceField):
    """A municipality by today's number or an earlier one (3001 → 3101 Halden). Refused
    with the hint of `MunicipalityNumbers`: 1507 names the two municipalities it became,
    "301" asks for "0301"; one outside the queryset (the user's reach) is unknown."""

    day: datetime.date | None = None
    notice = ""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        resolved = resolve_number(value, self.queryset)
        if resolved.error and self.day:
            # On a past day its number then counts too (1507 on a day in 2023: Ålesund).
            then = resolve_number(value, self.queryset, on=self.day)
            resolved = then if then.municipality else resolved
        if resolved.error:
            raise refusal(resolved.error)
        self.notice = resolved.notice
        return resolved.municipality


@extend_schema_field(OpenApiTypes.STR)
class MunicipalityNumberFilter(_DayMixin, filters.ModelChoiceFilter):
    """`municipality=<number>` on any list: today's number or an earlier one, among today's
    municipalities (reference data: the list's own queryset keeps to the user's scope; a
    `queryset` of those in reach makes others unknown, and a page's select shorter).
    `field_name` is the path to the municipality (`organisation__municipality`; `pk` on
    municipalities)."""

    field_class = MunicipalityNumberField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", lambda request: Municipality.objects.current())
        kwargs.setdefault("to_field_name", "number")
        kwargs.setdefault("label", gettext_lazy("Municipality"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        if self.distinct:
            qs = qs.distinct()
        return self.get_method(qs)(**{self.field_name: value.pk})


@dataclass(frozen=True)
class CountyOn:
    """A county as a filter value: today's, or (with a day) the county of that day, whose
    municipalities are those of `StructureOn(day)`."""

    county: County
    day: datetime.date | None = None

    def q(self, path: str = "municipality") -> Q:
        """The rows whose municipality (at `path`; "" for municipalities) is in the county:
        today by its county, on a past day by that day's structure (a municipality that
        did not exist then is counted where the structure counts it)."""
        prefix = f"{path}__" if path else ""
        if self.day is None:
            return Q(**{f"{prefix}county": self.county})
        structure = StructureOn(self.day)
        ids = []
        for pk in Municipality.objects.values_list("pk", flat=True):
            try:
                if structure.county_of(pk) == self.county.pk:
                    ids.append(pk)
            except KeyError:  # no counterpart on that day
                continue
        return Q(**{f"{prefix}pk__in": ids})


def counties_after(county: County) -> list[County]:
    """The counties a county's municipalities were in the day after it ended (30 Viken:
    31 Østfold, 32 Akershus, 33 Buskerud)."""
    last = StructureOn(county.valid_to)
    after = StructureOn(county.valid_to + datetime.timedelta(days=1))
    ids = set()
    for pk, place in last.places.items():
        if place.county_id == county.pk:
            try:
                ids.add(after.county_of(pk))
            except KeyError:
                continue
    return list(County.objects.filter(pk__in=ids).order_by("number"))


class CountyNumberField(ModelChoiceField):
    """A county by number among those of the day (today unless the list asks about a past
    day). An earlier county (30 Viken) is read on a day when it existed; without one it is
    refused with the counties it became."""

    day: datetime.date | None = None
    every = None  # every county the user may see, of any period

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = str(value).strip()
        every = self.every if self.every is not None else County.objects.all()
        # Only digits reach the database (a NUL byte in text is an error in PostgreSQL).
        county = (
            every.filter(number=number).first() if number.isascii() and number.isdigit() else None
        )
        if county is None:
            raise refusal(_("Unknown county number “%(v)s”.") % {"v": number})
        day = self.day or timezone.localdate()
        if county.valid_to and county.valid_to < day:
            became = ", ".join(f"{c.number} {c.name}" for c in counties_after(county))
            raise refusal(
                _(
                    "%(v)s %(name)s existed until %(end)s; its municipalities are now in "
                    "%(counties)s. Choose one of them, or ask about a day before %(start)s."
                )
                % {
                    "v": county.number,
                    "name": county.name,
                    "end": _date(county.valid_to),
                    "counties": became,
                    "start": _date(county.valid_to + datetime.timedelta(days=1)),
                }
            )
        if county.valid_from > day:
            raise refusal(
                _("%(v)s %(name)s exists from %(start)s.")
                % {"v": county.number, "name": county.name, "start": _date(county.valid_from)}
            )
        return CountyOn(county, self.day)


@extend_schema_field(OpenApiTypes.STR)
class CountyNumberFilter(_DayMixin, filters.ModelChoiceFilter):
    """`county=<number>`: the counties of the day the list asks about (today by default)
    are its choices; an earlier county's number is read as explained by CountyNumberField.
    `field_name` is the path to the municipality ("" on municipalities). Counties are
    reference data: the list's own queryset keeps to the user's scope."""

    field_class = CountyNumberField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", lambda request: County.objects.all())
        kwargs.setdefault("to_field_name", "number")
        kwargs.setdefault("label", gettext_lazy("County"))
        super().__init__(*args, **kwargs)

    def prepare_field(self, field, day) -> None:
        field.every = field.queryset
        field.queryset = field.queryset.on(day or timezone.localdate())

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return self.get_method(qs)(value.q(self.field_name))
