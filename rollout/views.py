from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from actors import list_controls, pages, scoping
from actors.choices import Role
from actors.concurrency import VersionConflict
from actors.forms import ImportForm, save_or_message, save_to_form
from actors.imports import ImportFileError
from actors.listing import page_of, query_without, quick_selects
from actors.models import HealthTrust, Organisation
from actors.review import SelfReview

from . import bulk_views, corrections, selectors, services, status_lists
from .choices import STATUS_COLOURS, STATUS_ORDER, TRANSITIONS, ReportStatus, Source, Status
from .filtersets import OrganisationStatusFilterSet, ReadinessReportFilterSet
from .forms import (
    BulkStatusForm,
    ReportCreateForm,
    ReviewForm,
    StatusChangeForm,
)
from .imports import import_statuses
from .models import ReadinessReport, Solution


def _status_chart(series: dict, labels: list) -> dict:
    return {
        "type": "line",
        "stacked": True,
        "labels": labels,
        "datasets": [
            {"label": str(Status(s).label), "data": series[s], "color": STATUS_COLOURS[s]}
            for s in STATUS_ORDER
            if any(series[s])
        ],
    }


@login_required
def matrix(request):
    """The national picture: solution × organisation type, counts per status."""
    types, rows = selectors.status_matrix(request.user)
    return render(
        request,
        "rollout/matrix.html",
        {"types": types, "rows": rows, "colours": STATUS_COLOURS, "status_order": STATUS_ORDER},
    )


@login_required
def solution_detail(request, code):
    """One solution: phase, status counts over time, areas (for area-wise solutions)."""
    solution = get_object_or_404(Solution, code=code)
    visible = Organisation.objects.visible_to(request.user)
    organisations = selectors.applicable(visible, solution)
    end = services.today()
    days = selectors.month_ends(end.replace(year=end.year - 5, month=1, day=1), end)
    series = selectors.status_counts_over_time(solution, days, organisations, among=visible)
    areas = []
    if solution.area_wise:
        stored = {a.health_trust_id: a for a in solution.areas.visible_to(request.user)}
        areas = [
            stored.get(t.pk) or services.area_rollout_for(solution, t)
            for t in HealthTrust.objects.visible_to(request.user)
        ]
    return render(
        request,
        "rollout/solution_detail.html",
        {
            "solution": solution,
            "chart": _status_chart(series, [d.strftime("%m.%Y") for d in days]),
            "total": organisations.count(),
            "areas": areas,
            "phase_changes": solution.phase_changes.filter(health_trust=None)[:10],
            **pages.contributions("solution_detail", request, solution=solution),
        },
    )


def _solution_from_request(request) -> Solution:
    code = request.GET.get("solution") or request.POST.get("solution")
    solution = Solution.objects.filter(code=code).first() if code else None
    return solution or Solution.objects.first()


@login_required
@require_http_methods(["GET", "POST"])
def status_list(request):
    """Organisations with their status for one solution; coordinators change many at once.
    With `?as_of=YYYY-MM-DD` the statuses as they stood at the end of that day, from the
    history: the same organisations (today's registry and scope), read-only."""
    solution = _solution_from_request(request)
    organisations = selectors.applicable(
        Organisation.objects.visible_to(request.user), solution
    ).select_related("type", "municipality", "health_trust")
    filterset = OrganisationStatusFilterSet(
        request.GET, queryset=organisations, request=request, solution=solution
    )
    quick_selects(filterset.form)
    as_of = filterset.as_of_day
    rows = filterset.qs
    ordering = list_controls.chosen_ordering(filterset)
    if request.method == "GET" and (fmt := list_controls.export_format(request)):
        stem = f"status-{solution.code}" + (f"-{as_of.isoformat()}" if as_of else "")
        return status_lists.export(fmt, stem, rows, solution, as_of)
    # Counting the rows was a third of a page at 10x: the count is cached like the matrix
    # (a new version with every committed change of statuses, history or organisations),
    # keyed by the list's SQL, so by scope, solution and filters.
    count = selectors.cached_count("status_list", rows)
    size = list_controls.page_size(request)
    page = page_of(request, list_controls.in_order(rows, ordering), size, count=count)
    if as_of:
        changes = selectors.changes_as_of(solution, as_of, [o.pk for o in page])
        for o in page:
            change = changes.get(o.pk)
            o.current_status = change.to_status if change else Status.NOT_STARTED
            o.status_date = change.effective_date if change else None
            o.status_reason = change.reason if change else ""
    scope = scoping.scope_for(request.user)
    bulk_form, result = None, None
    if request.method == "POST" and not scope.can_edit:
        raise PermissionDenied
    if request.method == "POST" and as_of:
        raise BadRequest(_("The list shows a past day, which cannot be changed."))
    if request.method == "POST" and request.POST.get("everything"):
        return bulk_views.bulk_preview(request)  # all that match the filter: preview first
    if scope.can_edit and not as_of:
        bulk_form = BulkStatusForm(request.POST or None, initial={"solution": solution.code})
        if request.method == "POST" and bulk_form.is_valid():
            data = bulk_form.cleaned_data
            try:
                result = services.statuses_bulk_change(
                    user=request.user,
                    organisation_ids=data["organisations"],
                    solution=solution,
                    to_status=data["to_status"],
                    reason=data["reason"],
                    effective_date=data["effective_date"],
                    override_reason=data["override_reason"],
                )
            except Organisation.DoesNotExist as exc:
                raise Http404 from exc
            if result.ok:
                messages.success(
                    request,
                    _("%(n)s organisations changed to “%(s)s” (%(u)s already had it).")
                    % {
                        "n": result.changed,
                        "s": Status(data["to_status"]).label,
                        "u": result.unchanged,
                    },
                )
                return redirect(request.get_full_path())
    return render(
        request,
        "rollout/status_list.html",
        {
            "solution": solution,
            "solutions": Solution.objects.all(),
            "filterset": filterset,
            "page": page,
            **list_controls.controls(request, status_lists.COLUMNS, ordering, size, "name"),
            "as_of": as_of,
            "today_query": query_without(request, "page", "as_of"),
            "bulk_form": bulk_form,
            "result": result,
            "selected": {int(i) for i in request.POST.getlist("organisations") if i.isdigit()},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def status_change(request, pk, code):
    solution = get_object_or_404(Solution, code=code)
    organisation = get_object_or_404(
        Organisation.objects.editable_by(request.user).select_related("type", "municipality"),
        pk=pk,
    )
    current = services.current_status(organisation, solution)
    form = StatusChangeForm(
        request.POST or None,
        allowed=TRANSITIONS[current.status],
        initial={"version": current.version},
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, outcome = save_to_form(
            form,
            lambda: services.status_change(
                user=request.user,
                organisation=organisation,
                solution=solution,
                to_status=data["to_status"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                override_reason=data["override_reason"],
                expected_version=data["version"],
                source=Source.UI,
                confirm_jump=data["confirm_jump"],
            ),
        )
        if ok:
            messages.success(request, _("Status saved."))
            return redirect(organisation)
        if isinstance(outcome, VersionConflict):
            conflict = outcome.current
    return render(
        request,
        "rollout/status_form.html",
        {
            "organisation": organisation,
            "solution": solution,
            "current": current,
            "form": form,
            "conflict": conflict,
            "missing": services.missing_prerequisites(organisation, solution),
            **corrections.status_page_context(request.user, organisation, solution),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def status_import(request):
    if not scoping.scope_for(request.user).can_edit:
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None)
    form.fields["file"].help_text = _(
        "Columns by header name: organisasjonsnummer, losning (solution code, e.g. pll), "
        "status (e.g. i_bruk or “I bruk”), and optionally dato (2024-03-31), begrunnelse and "
        "overstyring (a coordinator's written reason for letting a change through although a "
        "prerequisite is missing). Rows are applied in file order, so a file can carry an "
        "organisation's history."
    )
    report = None
    if request.method == "POST" and form.is_valid():
        from actors.import_views import queued
        from actors.models import Job

        if large := queued(request, form, Job.Kind.STATUS_IMPORT):
            return large  # a job, never in the web request
        try:
            report = import_statuses(
                raw=form.cleaned_data["file"].read(),
                user=request.user,
                dry_run=form.cleaned_data["dry_run"],
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
    return render(
        request,
        "import_page.html",
        {
            "form": form,
            "report": report,
            "page_title": _("Import rollout statuses from CSV"),
            "intro": _(
                "Every row goes through the same rules as a change in the form. If any row is "
                "refused, nothing is saved and every error is listed with its line and column."
            ),
            "back_url": reverse("rollout:matrix"),
            "back_label": _("Rollout status"),
        },
    )


# --- readiness reports ----------------------------------------------------------------


@login_required
def report_list(request):
    reports = ReadinessReport.objects.visible_to(request.user).select_related(
        "solution", "municipality", "created_by"
    )
    filterset = ReadinessReportFilterSet(request.GET, queryset=reports, request=request)
    quick_selects(filterset.form)
    return render(
        request,
        "rollout/report_list.html",
        {
            "filterset": filterset,
            "reports": filterset.qs[:200],
            "can_create": services.can_write_reports(request.user),
            "statuses": ReportStatus.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request):
    scope = scoping.scope_for(request.user)
    if not scope.can_edit or scope.role not in (
        Role.MUNICIPALITY_CONTACT,
        *services.OVERRIDE_ROLES,
    ):
        raise PermissionDenied
    form = ReportCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        report = services.report_create(user=request.user, **form.cleaned_data)
        messages.success(request, _("Report opened. Answer every item, save, then submit."))
        return redirect(report)
    return render(request, "rollout/report_create.html", {"form": form})


@login_required
@require_POST
def report_review(request, pk):
    report = get_object_or_404(ReadinessReport.objects.editable_by(request.user), pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        ok, _reviewed = save_or_message(
            request,
            lambda: services.report_review(
                user=request.user, report_id=report.pk, **form.verdict()
            ),
            refused=(SelfReview,),
        )
        if ok:
            messages.success(request, _("Review saved; the municipality has been told."))
    else:
        messages.error(request, _("Choose approve or return."))
    return redirect(reverse("rollout:report_detail", args=[pk]))
