"""FilterSets for rollout, shared by the HTML lists and the API."""

import django_filters as filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actors.filters import CountyNumberFilter, IdFilter, MunicipalityNumberFilter
from actors.filtersets import OrganisationFilterSet

from . import selectors
from .choices import ReportStatus, Status
from .forms import AsOfField
from .models import ReadinessReport, RolloutStatus, Solution, StatusChange


class AsOfFilter(filters.DateFilter):
    """`?as_of=YYYY-MM-DD`: answer from the status history as it stood at the end of that
    day. It only validates the day (rollout.forms.AsOfField); the view or viewset reads it
    with `as_of_day()` and starts from the history's queryset instead of today's."""

    field_class = AsOfField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Status as of"))
        kwargs.setdefault(
            "help_text",
            _(
                "A past day (YYYY-MM-DD): statuses as they stood at the end of it, from the "
                "status history. Not in the future, not before the history begins."
            ),
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs


def as_of_day(filterset):
    """The valid `as_of` of a filterset's data (None: none given, or not valid — the
    form then carries the error and the list stays today's)."""
    filterset.form.is_valid()
    return filterset.form.cleaned_data.get("as_of")


class OrganisationStatusFilterSet(OrganisationFilterSet):
    """Organisations with their status for one solution: today's (annotated by
    `selectors.with_status`) or, with `as_of`, as it stood at the end of that day. Then
    `status` and `changed_since` apply to the status of that day, read from the history
    in one subquery each (`selectors.latest_changes_as_of`), not row by row."""

    # Checkboxes, not a <select multiple> that takes ctrl-click to choose more than one.
    status = filters.MultipleChoiceFilter(
        distinct=False,
        choices=Status.choices,
        method="filter_status",
        label=_("Status"),
        widget=forms.CheckboxSelectMultiple,
    )
    changed_since = filters.DateFilter(
        method="filter_changed_since", label=_("Status changed since")
    )
    as_of = AsOfFilter()

    def __init__(self, data=None, queryset=None, *, solution: Solution, **kwargs):
        self.solution = solution
        super().__init__(data, queryset, **kwargs)

    @property
    def as_of_day(self):
        return as_of_day(self)

    def filter_queryset(self, queryset):
        if not self.as_of_day:
            queryset = selectors.with_status(queryset, self.solution)
        return super().filter_queryset(queryset)

    def _then(self):
        return selectors.latest_changes_as_of(self.as_of_day).filter(solution=self.solution)

    def filter_status(self, queryset, name, value):
        if not self.as_of_day:
            return queryset.filter(current_status__in=value)
        wanted = Q(pk__in=self._then().filter(to_status__in=value).values("organisation_id"))
        if Status.NOT_STARTED in value:
            # No change by then counts as not started.
            started = self._then().exclude(to_status=Status.NOT_STARTED)
            wanted |= ~Q(pk__in=started.values("organisation_id"))
        return queryset.filter(wanted)

    def filter_changed_since(self, queryset, name, value):
        if not self.as_of_day:
            return queryset.filter(status_date__gte=value)
        since = self._then().filter(effective_date__gte=value)
        return queryset.filter(pk__in=since.values("organisation_id"))


class RolloutStatusFilterSet(filters.FilterSet):
    solution = filters.ModelChoiceFilter(
        queryset=Solution.objects.all(), to_field_name="code", label=_("Solution")
    )
    solution_id = IdFilter(field_name="solution_id")
    status = filters.MultipleChoiceFilter(distinct=False, choices=Status.choices, label=_("Status"))
    organisation_id = IdFilter(field_name="organisation_id")
    orgnr = filters.CharFilter(field_name="organisation__orgnr")
    type = filters.CharFilter(field_name="organisation__type__code", label=_("Type"))
    county = CountyNumberFilter(field_name="organisation__municipality")
    health_trust = filters.CharFilter(field_name="organisation__health_trust__code")
    health_trust_id = IdFilter(field_name="organisation__health_trust_id")
    municipality = MunicipalityNumberFilter(field_name="organisation__municipality")
    municipality_id = IdFilter(field_name="organisation__municipality_id")
    changed_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    as_of = AsOfFilter()

    class Meta:
        model = RolloutStatus
        fields: list[str] = []


class RolloutStatusAsOfFilterSet(RolloutStatusFilterSet):
    """The same parameters over the history's answer for a past day
    (`rollout.selectors.latest_changes_as_of`): `status` is the status then,
    `changed_since` when the change that set it was recorded. `as_of` itself was
    validated already and only selects this filterset."""

    status = filters.MultipleChoiceFilter(
        distinct=False, field_name="to_status", choices=Status.choices, label=_("Status")
    )
    changed_since = filters.IsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")
    as_of = filters.DateFilter(method="keep")

    class Meta:
        model = StatusChange
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset


class StatusChangeFilterSet(filters.FilterSet):
    solution = filters.CharFilter(method="filter_solution", label=_("Solution"))
    solution_id = IdFilter(field_name="solution_id")
    organisation_id = IdFilter(field_name="organisation_id")
    municipality = MunicipalityNumberFilter(field_name="organisation__municipality")
    health_trust = filters.CharFilter(field_name="organisation__health_trust__code")
    recorded_since = filters.IsoDateTimeFilter(field_name="changed_at", lookup_expr="gte")
    effective_from = filters.DateFilter(field_name="effective_date", lookup_expr="gte")
    effective_to = filters.DateFilter(field_name="effective_date", lookup_expr="lte")

    class Meta:
        model = StatusChange
        fields: list[str] = []

    def filter_solution(self, queryset, name, value):
        # By the solution's id, not a join on its code: the history's index (solution_id,
        # changed_at, id) then bounds every page, the last one too (an unknown code: none).
        ids = list(Solution.objects.filter(code=value).values_list("pk", flat=True))
        return queryset.filter(solution_id__in=ids)


class ReadinessReportFilterSet(filters.FilterSet):
    solution = filters.ModelChoiceFilter(
        queryset=Solution.objects.all(), to_field_name="code", label=_("Solution")
    )
    solution_id = IdFilter(field_name="solution_id")
    municipality = MunicipalityNumberFilter(field_name="municipality")
    municipality_id = IdFilter(field_name="municipality_id")
    status = filters.MultipleChoiceFilter(distinct=False, choices=ReportStatus.choices)

    class Meta:
        model = ReadinessReport
        fields: list[str] = []
