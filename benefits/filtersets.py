"""FilterSets for agreements, the benefit register, benefit reports and coverage snapshots
(API and exports).

The querysets they filter are already narrowed to the user's scope; the filters only pick
within it. Structure filters (municipality, county, area) follow the same paths as the
scoping: an agreement belongs to a municipality when the municipality or one of its
organisations is a party.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ChoiceField, MultipleChoiceField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from actors.filters import CountyNumberFilter, IdFilter, MunicipalityNumberFilter, refusal
from actors.models import Catchment
from actors.numbers import MunicipalityNumbers

from .choices import AgreementStatus, Level, MeasurementKind, ReportStatus
from .coverage import ScopeRef, resolve_scope, scope_options
from .models import Benefit, BenefitReport, CoverageSnapshot, IntentAgreement


class _BlankTolerantMultipleChoiceField(MultipleChoiceField):
    """`status=` (an "All" choice of a form) means no filter, not an invalid choice."""

    def clean(self, value):
        return super().clean([v for v in value or [] if v not in ("", None)])


class MultipleChoiceFilter(filters.MultipleChoiceFilter):
    """One or more choices (`?status=a&status=b`) of a column; blank values are ignored.
    No DISTINCT: a column's choices cannot repeat rows (and DISTINCT over every column
    costs a sort of the whole list)."""

    field_class = _BlankTolerantMultipleChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


def _agreements(condition: Q):
    """Agreements matching a condition on their parties, as a subquery (no duplicate rows)."""
    return IntentAgreement.objects.filter(condition).values("pk")


class IntentAgreementFilterSet(filters.FilterSet):
    status = MultipleChoiceFilter(choices=AgreementStatus.choices, label=_("Status"))
    municipality = MunicipalityNumberFilter(
        method="filter_municipality",
        label=_("Municipality number: a party, or the home of an organisation that is one."),
    )
    county = CountyNumberFilter(
        method="filter_county", label=_("County number of a party municipality or organisation.")
    )
    health_trust = filters.CharFilter(
        method="filter_health_trust",
        label=_("Health-trust area code: parties in the area's catchment."),
    )
    solution = filters.CharFilter(
        method="filter_solution",
        label=_("Solution code: agreements naming it, and those for the whole programme."),
    )
    signed_from = filters.DateFilter(field_name="signed_date", lookup_expr="gte")
    signed_to = filters.DateFilter(field_name="signed_date", lookup_expr="lte")

    class Meta:
        model = IntentAgreement
        fields: list[str] = []

    def filter_municipality(self, queryset, name, value):
        condition = Q(municipalities=value) | Q(organisations__municipality=value)
        return queryset.filter(pk__in=_agreements(condition))

    def filter_county(self, queryset, name, value):
        condition = value.q("municipalities") | value.q("organisations__municipality")
        return queryset.filter(pk__in=_agreements(condition))

    def filter_health_trust(self, queryset, name, value):
        catchment = Catchment.objects.filter(health_trust__code=value).values("municipality_id")
        condition = Q(municipalities__in=catchment) | Q(organisations__health_trust__code=value)
        return queryset.filter(pk__in=_agreements(condition))

    def filter_solution(self, queryset, name, value):
        condition = Q(solutions__code=value) | Q(solutions=None)
        return queryset.filter(pk__in=_agreements(condition))


class BenefitFilterSet(filters.FilterSet):
    goal = filters.CharFilter(field_name="goal__code", label=_("Benefit goal code"))
    solution = filters.CharFilter(method="filter_solution", label=_("Solution code"))
    baseline_required = filters.BooleanFilter()

    class Meta:
        model = Benefit
        fields: list[str] = []

    def filter_solution(self, queryset, name, value):
        return queryset.filter(pk__in=Benefit.objects.filter(solutions__code=value).values("pk"))


class BenefitReportFilterSet(filters.FilterSet):
    benefit = IdFilter(field_name="benefit_id", label=_("Benefit id"))
    goal = filters.CharFilter(field_name="benefit__goal__code", label=_("Benefit goal code"))
    municipality = MunicipalityNumberFilter(field_name="municipality")
    organisation = filters.CharFilter(field_name="organisation__orgnr", label=_("Orgnr"))
    health_trust = filters.CharFilter(method="filter_health_trust")
    kind = MultipleChoiceFilter(choices=MeasurementKind.choices)
    status = MultipleChoiceFilter(choices=ReportStatus.choices)
    period_from = filters.DateFilter(field_name="period_end", lookup_expr="gte")
    period_to = filters.DateFilter(field_name="period_start", lookup_expr="lte")

    class Meta:
        model = BenefitReport
        fields: list[str] = []

    def filter_health_trust(self, queryset, name, value):
        catchment = Catchment.objects.filter(health_trust__code=value).values("municipality_id")
        return queryset.filter(
            Q(organisation__health_trust__code=value)
            | Q(organisation__isnull=True, municipality__in=catchment)
        )


def request_scope_options(request) -> list[ScopeRef]:
    """The places in the user's reach (coverage.scope_options), read once per request and
    shared by the filter and the view that names the rows."""
    if request is None:
        return []
    options = getattr(request, "_coverage_scope_options", None)
    if options is None:
        options = scope_options(request.user)
        request._coverage_scope_options = options
    return options


class _ScopeKeyField(ChoiceField):
    """`municipality:<number>` may give an earlier number (read as today's key); one that
    is ambiguous (1507) or has lost its leading zero is refused with the hint."""

    def to_python(self, value):
        value = super().to_python(value)
        level, colon, number = value.partition(":")
        if level != "municipality" or not colon:
            return value
        numbers = MunicipalityNumbers()
        resolved = numbers.resolve(number)
        if resolved.municipality:
            return f"municipality:{resolved.municipality.number}"
        if number in numbers.versions or number.zfill(4) in numbers.versions:
            raise refusal(resolved.error)
        return value  # never a number: the choices refuse it as an unknown place


@extend_schema_field(OpenApiTypes.STR)
class ScopeKeyFilter(filters.ChoiceFilter):
    """A place by its key; the choices are the places in the requesting user's reach."""

    field_class = _ScopeKeyField


class CoverageSnapshotFilterSet(filters.FilterSet):
    target = filters.CharFilter(field_name="target__code", label=_("Target code"))
    target_id = IdFilter(field_name="target_id", label=_("Target id"))
    level = MultipleChoiceFilter(choices=Level.choices, label=_("Level"))
    scope_id = IdFilter(
        min_value=0, label=_("Id of the region, area, county or municipality (0 for the nation).")
    )
    scope = ScopeKeyFilter(
        method="filter_scope",
        label=_(
            "A place in your reach: nation, rha:<code>, area:<code>, county:<number> or "
            "municipality:<number>."
        ),
        error_messages={
            "invalid_choice": _(
                "Unknown place, or one outside your reach: %(value)s. Use nation, "
                "rha:<code>, area:<code>, county:<number> or municipality:<number>."
            )
        },
    )
    day_after = filters.DateFilter(
        field_name="day", lookup_expr="gte", label=_("From this date (included).")
    )
    day_before = filters.DateFilter(
        field_name="day", lookup_expr="lte", label=_("Up to this date (included).")
    )

    class Meta:
        model = CoverageSnapshot
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.request
        # A callable: the places are only read when a scope is asked for.
        self.filters["scope"].extra["choices"] = lambda: [
            (o.key, o.name) for o in request_scope_options(request)
        ]

    def filter_scope(self, queryset, name, value):
        place = resolve_scope(self.request.user, value, request_scope_options(self.request))
        return queryset.filter(level=place.level, scope_id=place.scope_id)
