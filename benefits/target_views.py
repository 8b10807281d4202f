"""The coverage-target dashboard (the directorate's start page), a target's page with its
trend, forecast, breakdown and who is missing, and starting a recomputation.

Figures come from the stored snapshots (benefits.coverage); the lists of who is missing
are read live from the current statuses, within the user's reach."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from actors import exports, list_controls, scoping
from actors.filtersets import OrganisationFilterSet
from actors.forms import save_or_message
from actors.listing import QuickSelectWidget, page_of, query_without, quick_selects
from actors.models import Job
from benefits.governance.dependencies import upcoming_deadlines
from rollout import status_lists
from rollout.choices import Status
from rollout.models import RolloutStatus

from . import coverage, services
from .charts import chart_height, share_bars
from .choices import Level, TargetUnit
from .models import CoverageTarget

PAGE_SIZE = 100  # organisations not yet counted, per page
MUNICIPALITY_PAGE_SIZE = 25  # municipalities not yet counted (each with its organisations)
# Who is missing: sortable as the status list, by the API's ordering names.
MISSING_COLUMNS = (
    *status_lists.COLUMNS[:4],
    list_controls.Col(gettext_lazy("Blocking reason")),
)
COLOUR_ACTUAL, COLOUR_FORECAST, COLOUR_THRESHOLD = "#12639e", "#5fb98a", "#7a4a00"


def _chosen_scope(request) -> tuple[list[coverage.ScopeRef], coverage.ScopeRef]:
    """The place the user asked for (?scope=), within reach; otherwise their default."""
    options = coverage.scope_options(request.user)
    if not options:
        raise PermissionDenied(_("Your user has no role."))
    place = coverage.resolve_scope(request.user, request.GET.get("scope"), options)
    if place is None:
        raise Http404(_("No such place within your reach."))
    return options, place


def _scope_select(options: list[coverage.ScopeRef], chosen: coverage.ScopeRef) -> str:
    """The <select> of places (every municipality in reach), grouped by level."""
    groups: dict[str, list] = {}
    for o in options:
        groups.setdefault(o.level, []).append((o.key, o.name))
    labels = {level: str(Level(level).label) for level in groups}
    widget = QuickSelectWidget(choices=[(labels[level], c) for level, c in groups.items()])
    return widget.render("scope", chosen.key, {"id": "scope"})


def _percent(num: int, den: int) -> float | None:
    return round(num / den * 100, 1) if den else None


def _months_between(start: datetime.date, end: datetime.date) -> list[tuple[int, int]]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def trend_chart(status: coverage.TargetStatus, compact: bool = False) -> dict:
    """The ratio per month with the threshold, the forecast at the current pace and the
    deadline marked."""
    target, forecast = status.target, status.forecast
    points = coverage.last_of_each_month(status.series)
    if not points:
        return {}
    end = target.deadline
    if forecast.projected and not compact:
        end = max(end, min(forecast.projected, target.deadline + datetime.timedelta(days=730)))
    end = max(end, points[-1][0])
    months = _months_between(points[0][0], end)
    index = {m: i for i, m in enumerate(months)}
    actual = [None] * len(months)
    for day, num, den in points:
        actual[index[(day.year, day.month)]] = _percent(num, den)
    threshold = round(float(target.threshold) * 100, 1)
    datasets = [
        {"label": _("Achieved (%)"), "data": actual, "color": COLOUR_ACTUAL},
        {
            "label": _("Threshold %(t)s %%") % {"t": f"{threshold:g}"},
            "data": [threshold] * len(months),
            "color": COLOUR_THRESHOLD,
            "dashed": True,
        },
    ]
    if forecast.pace_per_month and forecast.pace_per_month > 0 and forecast.current is not None:
        latest_day = points[-1][0]
        start = index[(latest_day.year, latest_day.month)]
        line = [None] * len(months)
        for i in range(start, len(months)):
            value = (forecast.current + forecast.pace_per_month * (i - start)) * 100
            line[i] = round(min(value, 100.0), 1)
        datasets.insert(
            1,
            {
                "label": _("At the current pace"),
                "data": line,
                "color": COLOUR_FORECAST,
                "dashed": True,
            },
        )
    deadline_month = (target.deadline.year, target.deadline.month)
    markers = []
    if deadline_month in index:
        markers.append(
            {
                "index": index[deadline_month],
                "label": _("Deadline %(d)s") % {"d": target.deadline.strftime("%d.%m.%Y")},
            }
        )
    return {
        "type": "line",
        "labels": [f"{m:02d}.{y}" for y, m in months],
        "datasets": datasets,
        "percent": True,
        "markers": markers,
        "noLegend": compact,
    }


def _jobs(user) -> list[Job]:
    """The latest computation, and any other of the last week that failed, stalled or is
    still under way, so a failure does not hide behind a newer job. One query: the latest
    comes first in the jobs' order, the others (at most five) after it."""
    visible = Job.objects.visible_to(user).filter(kind__in=scoping.SHARED_JOB_KINDS)
    latest = visible.values("pk")[:1]
    recent = Q(created_at__gte=timezone.now() - datetime.timedelta(days=7)) & ~Q(
        state=Job.State.DONE
    )
    return list(visible.filter(Q(pk=Subquery(latest)) | recent).select_related("created_by")[:6])


def _card(status: coverage.TargetStatus) -> dict:
    return {
        "status": status,
        "chart": trend_chart(status, compact=True),
    }


@login_required
@require_safe
def target_dashboard(request):
    """A card per target at the chosen place: where we are, whether we will make it."""
    options, chosen = _chosen_scope(request)
    targets = list(CoverageTarget.objects.filter(is_active=True).select_related("solution"))
    cards = [_card(s) for s in coverage.target_statuses(targets, chosen)]
    return render(
        request,
        "benefits/target_dashboard.html",
        {
            "cards": cards,
            "options": options,
            "scope_select": _scope_select(options, chosen),
            "chosen": chosen,
            "jobs": _jobs(request.user),
            "can_recompute": scoping.can_recompute_targets(request.user),
            "deadlines": upcoming_deadlines(),
        },
    )


@login_required
@require_safe
def target_detail(request, code: str):
    """One target: the trend and forecast at a place, the breakdown by area and county
    (largest gap first) and exactly who is not yet counted."""
    target = get_object_or_404(
        CoverageTarget.objects.select_related("solution").prefetch_related("organisation_types"),
        code=code,
    )
    options, chosen = _chosen_scope(request)
    (status,) = coverage.target_statuses([target], chosen)
    areas = coverage.breakdown(target, options, Level.AREA)
    counties = coverage.breakdown(target, options, Level.COUNTY)
    context = {
        "target": target,
        "status": status,
        "chart": trend_chart(status),
        "options": options,
        "scope_select": _scope_select(options, chosen),
        "chosen": chosen,
        "areas": areas,
        "counties": counties,
        "area_chart": share_bars(areas, target.threshold, achieved=True),
        "county_chart": share_bars(counties, target.threshold, achieved=True),
        "area_height": chart_height(len(areas)),
        "county_height": chart_height(len(counties)),
        "type_names": ", ".join(t.name.lower() for t in target.organisation_types.all()),
        "achieved_names": ", ".join(str(Status(s).label).lower() for s in target.achieved_statuses),
        "jobs": _jobs(request.user),
        "can_recompute": scoping.can_recompute_targets(request.user),
    }
    if target.unit == TargetUnit.ORGANISATIONS:
        missing = coverage.missing_organisations(target, request.user, chosen)
        filterset = OrganisationFilterSet(request.GET, queryset=missing, request=request)
        quick_selects(filterset.form)
        missing = filterset.qs
        ordering = list_controls.chosen_ordering(filterset)
        if fmt := list_controls.export_format(request):
            if not ordering:  # the page's order
                missing = missing.order_by("municipality__name", "name", "orgnr")
            return status_lists.export(fmt, _missing_stem(target, chosen), missing, target.solution)
        # Sorted by municipality name first (unless asked otherwise): a page sorts the
        # rows of its municipalities only; their group sizes come from
        # coverage.missing_sizes (cached).
        sizes = None
        if ordering in ("", "municipality", "-municipality"):
            sizes = coverage.missing_sizes(target, missing)
            sizes = sizes[::-1] if ordering.startswith("-") else sizes
        size = list_controls.page_size(request, PAGE_SIZE)
        rows = list_controls.in_order(missing, ordering or "municipality", sizes=sizes)
        page = page_of(request, rows, size)
        _mark_waiting(target, page.object_list)
        _link(page.object_list)
        context["page"] = page
        context["filterset"] = filterset
        context.update(
            list_controls.controls(
                request, MISSING_COLUMNS, ordering, size, "municipality", "#missing"
            )
        )
    else:
        gaps = coverage.missing_municipalities(target, request.user, chosen)
        if fmt := list_controls.export_format(request):
            return _gaps_file(fmt, target, request.user, chosen, gaps)
        context["page"] = page_of(request, gaps, MUNICIPALITY_PAGE_SIZE)
        coverage.attach_missing(target, request.user, list(context["page"]))
        _link([o for gap in context["page"] for o in gap.missing])
        context["query"] = query_without(request, "page", "format")
        context["export_query"] = context["query"]
    return render(request, "benefits/target_detail.html", context)


def _missing_stem(target: CoverageTarget, place: coverage.ScopeRef) -> str:
    return f"mangler-{target.code}-{place.key.replace(':', '-')}"


def _gaps_file(fmt: str, target: CoverageTarget, user, place, gaps):
    """The municipalities of a municipality target that do not count, with how many of
    their organisations count and how many are missing, as a file."""
    coverage.attach_missing(target, user, gaps)
    columns = [
        exports.Column(_("Municipality number"), width=10),
        exports.Column(_("Municipality"), width=20),
        exports.Column(_("Achieved"), exports.INTEGER),
        exports.Column(_("Relevant"), exports.INTEGER),
        exports.Column(_("Organisations still missing"), exports.INTEGER, width=20),
    ]
    rows = [
        (
            g.municipality.number,
            g.municipality.name,
            g.cell.achieved,
            g.cell.relevant,
            g.missing_count,
        )
        for g in gaps
    ]
    return exports.table_response(_missing_stem(target, place), columns, rows, fmt)


def _link(organisations) -> None:
    """Set `url` on each organisation: its page (get_absolute_url), reversed once for all
    of them (reverse() took some 30 µs a row, and a page names up to 250)."""
    before, after = reverse("actors:organisation_detail", args=[0]).rsplit("/0/", 1)
    for o in organisations:
        o.url = f"{before}/{o.pk}/{after}"


def _mark_waiting(target: CoverageTarget, organisations) -> None:
    """Set `waiting_for` on each organisation: the required solutions (prerequisites) not
    yet in use there. Two queries: the required solutions with their types, and the
    statuses of the page."""
    organisations = list(organisations)
    required: dict[int, tuple[str, set]] = {}  # {solution id: (short name, type ids)}
    for pk, name, type_id in target.solution.requires.values_list(
        "pk", "short_name", "organisation_types"
    ):
        required.setdefault(pk, (name, set()))[1].add(type_id)
    in_use = set()
    if required:
        in_use = set(
            RolloutStatus.objects.filter(
                organisation__in=[o.pk for o in organisations],
                solution__in=list(required),
                status=Status.IN_USE,
            ).values_list("organisation_id", "solution_id")
        )
    for o in organisations:
        o.waiting_for = [
            name
            for pk, (name, types) in required.items()
            if o.type_id in types and (o.pk, pk) not in in_use
        ]


@login_required
@require_POST
def target_recompute(request):
    """Start a recomputation of today's snapshots (or a back-fill) from the UI."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("benefits:target_dashboard")
    kind = (
        Job.Kind.COVERAGE_BACKFILL
        if request.POST.get("kind") == "backfill"
        else Job.Kind.COVERAGE_RECOMPUTE
    )
    params = {"targets": [c for c in request.POST.getlist("targets") if c]}
    if kind == Job.Kind.COVERAGE_BACKFILL:
        params["every"] = request.POST.get("every") or "month"
    ok, _job = save_or_message(
        request, lambda: services.coverage_job_request(user=request.user, kind=kind, params=params)
    )
    if ok:
        messages.success(request, _("The recomputation has started; progress is shown below."))
    return redirect(back)
