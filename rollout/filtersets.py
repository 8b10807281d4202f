"""FilterSets for rollout, shared by the HTML lists and the API."""

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from actors.filters import IdFilter
from actors.filtersets import OrganisationFilterSet

from .choices import ReportStatus, Status
from .models import ReadinessReport, RolloutStatus, Solution, StatusChange


class OrganisationStatusFilterSet(OrganisationFilterSet):
    """Organisations with their status for one solution (annotated `current_status`)."""

    status = filters.MultipleChoiceFilter(
        field_name="current_status", choices=Status.choices, label=_("Status")
    )
    changed_since = filters.DateFilter(
        field_name="status_date", lookup_expr="gte", label=_("Status changed since")
    )


class RolloutStatusFilterSet(filters.FilterSet):
    solution = filters.ModelChoiceFilter(
        queryset=Solution.objects.all(), to_field_name="code", label=_("Solution")
    )
    solution_id = IdFilter(field_name="solution_id")
    status = filters.MultipleChoiceFilter(choices=Status.choices, label=_("Status"))
    organisation_id = IdFilter(field_name="organisation_id")
    orgnr = filters.CharFilter(field_name="organisation__orgnr")
    type = filters.CharFilter(field_name="organisation__type__code", label=_("Type"))
    county = filters.CharFilter(field_name="organisation__municipality__county__number")
    health_trust = filters.CharFilter(field_name="organisation__health_trust__code")
    health_trust_id = IdFilter(field_name="organisation__health_trust_id")
    municipality = filters.CharFilter(field_name="organisation__municipality__number")
    municipality_id = IdFilter(field_name="organisation__municipality_id")
    changed_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = RolloutStatus
        fields: list[str] = []


class StatusChangeFilterSet(filters.FilterSet):
    solution = filters.CharFilter(field_name="solution__code")
    solution_id = IdFilter(field_name="solution_id")
    organisation_id = IdFilter(field_name="organisation_id")
    municipality = filters.CharFilter(field_name="organisation__municipality__number")
    health_trust = filters.CharFilter(field_name="organisation__health_trust__code")
    recorded_since = filters.IsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")
    effective_from = filters.DateFilter(field_name="effective_date", lookup_expr="gte")
    effective_to = filters.DateFilter(field_name="effective_date", lookup_expr="lte")

    class Meta:
        model = StatusChange
        fields: list[str] = []


class ReadinessReportFilterSet(filters.FilterSet):
    solution = filters.ModelChoiceFilter(
        queryset=Solution.objects.all(), to_field_name="code", label=_("Solution")
    )
    solution_id = IdFilter(field_name="solution_id")
    municipality = filters.CharFilter(field_name="municipality__number")
    municipality_id = IdFilter(field_name="municipality_id")
    status = filters.MultipleChoiceFilter(choices=ReportStatus.choices)

    class Meta:
        model = ReadinessReport
        fields: list[str] = []
