"""Intention agreements and their coverage, the benefit register and benefit reports.

Every read goes through `visible_to` / `editable_by` (or a selector that does), every write
through `benefits.services`."""

import copy
import os
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from actors import exports, scoping
from actors.concurrency import VersionConflict
from actors.forms import save_or_message, save_to_form
from actors.listing import page_of, query_without, quick_selects
from actors.models import HealthTrust, Municipality, Organisation
from actors.review import SelfReview

from . import reports as status_reports
from . import selectors, services
from .charts import chart_height, share_bars
from .choices import Direction, MeasurementKind, ReportStatus
from .filtersets import IntentAgreementFilterSet
from .forms import (
    AgreementFilterForm,
    AgreementForm,
    BenefitReportForm,
    CoverageDateForm,
    ReviewForm,
)
from .models import Benefit, BenefitGoal, BenefitReport, IntentAgreement

PAGE_SIZE = 50
EXPORT_PATH = "/api/v1/agreements/export/"  # built by the API (benefits/api)
CHART_REPORTERS = 30
MISSING_SHOWN = 25
EDITABLE_REPORT = (ReportStatus.DRAFT, ReportStatus.RETURNED)
COLOUR_COVERED, COLOUR_BEYOND = "#12639e", "#1b8a5a"


def _version(raw) -> int | None:
    return int(raw) if str(raw or "").isdigit() else None


def _pdf_response(document) -> FileResponse:
    """A stored PDF as a download. Files live under MEDIA_ROOT, which is never served
    directly: this view (after its scope check) is the only way to them."""
    if not document:
        raise Http404
    try:
        handle = document.storage.open(document.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return exports.stored_attachment(handle, os.path.basename(document.name), exports.PDF_TYPE)


def _may_edit_agreements(user) -> bool:
    return services.AgreementReach(user).maintains_agreements


# --- agreements -----------------------------------------------------------------------


@login_required
@require_safe
def agreement_list(request):
    filters = quick_selects(AgreementFilterForm(request.GET or None, user=request.user))
    filters.is_valid()
    filterset = IntentAgreementFilterSet(
        request.GET, queryset=IntentAgreement.objects.visible_to(request.user)
    )
    agreements = filterset.qs.prefetch_related(
        Prefetch(
            "municipalities", queryset=Municipality.objects.only("pk", "name").order_by("name")
        ),
        Prefetch(
            "organisations", queryset=Organisation.objects.only("pk", "name").order_by("name")
        ),
        "solutions",
        "documents",
    )
    page = page_of(request, agreements, PAGE_SIZE)
    for agreement in page:
        agreement.parties = [*agreement.municipalities.all(), *agreement.organisations.all()]
    return render(
        request,
        "benefits/agreement_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query_without(request, "page"),
            "can_create": _may_edit_agreements(request.user),
            "export_path": EXPORT_PATH,
        },
    )


def _coverage_chart(rows, threshold: float) -> dict:
    rows = sorted(rows, key=lambda r: (r.share, r.name))
    return share_bars(rows, threshold)


def _by_gap(rows):
    return sorted(rows, key=lambda r: (-r.gap, r.share, r.name))


@login_required
@require_safe
def agreement_coverage(request):
    """Are the agreements in force (today, or on the day asked for) above the threshold
    (half the population outside the excluded region), and where are the gaps? Any role;
    the municipalities listed as gaps are those the user can see."""
    scope = scoping.scope_for(request.user)
    if not scope.role:
        raise PermissionDenied
    date_form = CoverageDateForm(request.GET or None)
    valid = date_form.is_valid()
    on = date_form.cleaned_data["on"] if valid else None
    coverage = selectors.agreement_coverage(on, date_form.cleaned_data["year"] if valid else None)
    counties, areas = coverage.by_county, coverage.by_area
    visible_municipalities = Municipality.objects.visible_to(request.user)
    # National figures are the same for every role (as in the API); a limited user's own
    # counties and areas are marked, and only areas they can open are linked.
    trust_codes = set(HealthTrust.objects.visible_to(request.user).values_list("code", flat=True))
    mine = set()
    if scope.is_limited:
        mine = set(visible_municipalities.values_list("county__number", flat=True)) | trust_codes
    visible = set(visible_municipalities.values_list("pk", flat=True))
    gaps = sorted(
        (r for r in coverage.by_municipality if r.pk in visible and not r.covered_municipalities),
        key=lambda r: -r.population,
    )[:20]
    return render(
        request,
        "benefits/agreement_coverage.html",
        {
            "coverage": coverage,
            "nation": coverage.nation,
            "counties": _by_gap(counties),
            "areas": _by_gap(areas),
            "county_chart": _coverage_chart(counties, coverage.threshold),
            "area_chart": _coverage_chart(areas, coverage.threshold),
            "chart_height": chart_height(max(len(counties), len(areas))),
            "gaps": gaps,
            "date_form": date_form,
            "on": on,
            "excluded_region": selectors.excluded_region_name(),
            "mine": mine,
            "linkable": trust_codes,
        },
    )


@login_required
@require_safe
def agreement_detail(request, pk):
    agreement = get_object_or_404(IntentAgreement.objects.visible_to(request.user), pk=pk)
    municipalities = list(agreement.municipalities.select_related("county").order_by("name"))
    organisations = list(
        agreement.organisations.select_related("municipality", "type").order_by("name")
    )
    visible_municipalities = set(
        Municipality.objects.visible_to(request.user)
        .filter(pk__in=[m.pk for m in municipalities])
        .values_list("pk", flat=True)
    )
    visible_organisations = set(
        Organisation.objects.visible_to(request.user)
        .filter(pk__in=[o.pk for o in organisations])
        .values_list("pk", flat=True)
    )
    for m in municipalities:
        m.linkable = m.pk in visible_municipalities
    for o in organisations:
        o.linkable = o.pk in visible_organisations
    documents = list(agreement.documents.select_related("uploaded_by"))
    # Those who maintain agreements see why one is read-only for them; others never edit.
    reach = services.AgreementReach(request.user)
    refusal = reach.refusal(municipalities, organisations) if reach.maintains_agreements else None
    return render(
        request,
        "benefits/agreement_detail.html",
        {
            "agreement": agreement,
            "municipalities": municipalities,
            "population": sum(m.population for m in municipalities),
            "organisations": organisations,
            "solutions": list(agreement.solutions.all()),
            "changes": selectors.change_lines(agreement.changes.select_related("changed_by")),
            "documents": documents,
            "current_document": next((d for d in documents if d.is_current), None),
            "can_edit": reach.maintains_agreements and refusal is None,
            "edit_refusal": refusal,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request):
    if not _may_edit_agreements(request.user):
        raise PermissionDenied
    return _agreement_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request, pk):
    agreement = get_object_or_404(IntentAgreement.objects.editable_by(request.user), pk=pk)
    refusal = services.agreement_edit_refusal(request.user, agreement)
    if refusal:
        raise PermissionDenied(refusal)
    return _agreement_form(request, agreement)


def _agreement_form(request, agreement):
    post = request.method == "POST"
    form = AgreementForm(
        request.POST if post else None,
        request.FILES if post else None,
        # The form writes what was typed into its instance; keep `agreement` as saved.
        instance=copy.copy(agreement) if agreement else None,
        user=request.user,
    )
    conflict = None
    if post and form.is_valid():
        municipalities, organisations = form.parties()
        ok, outcome = save_to_form(
            form,
            lambda: services.agreement_save(
                user=request.user,
                agreement_id=agreement.pk if agreement else None,
                expected_version=form.cleaned_data["version"] if agreement else None,
                fields=form.fields_for_service(),
                municipalities=municipalities,
                organisations=organisations,
                solutions=form.cleaned_data["solutions"],
                document=form.cleaned_data["document"],
            ),
            not_found=IntentAgreement.DoesNotExist,
        )
        if ok:
            messages.success(
                request, _("Agreement saved.") if agreement else _("Agreement created.")
            )
            return redirect(outcome)
        if isinstance(outcome, VersionConflict):
            conflict = _agreement_conflict(form, outcome.current)
    return render(
        request,
        "benefits/agreement_form.html",
        {
            "form": form,
            "agreement": agreement,
            "conflict": conflict,
            "file_lost": post and bool(request.FILES) and not form.is_valid(),
        },
    )


def _agreement_conflict(form, current) -> list[dict]:
    """Fields where the saved agreement now differs from what the user typed."""
    current = IntentAgreement.objects.get(pk=current.pk)
    rows = []
    for name in services.AGREEMENT_FIELDS:
        saved, typed = getattr(current, name), form.cleaned_data.get(name)
        if saved != typed:
            rows.append({"label": form.fields[name].label, "saved": saved, "typed": typed})
    municipalities, organisations = form.parties()
    for name, saved, typed in (
        ("municipalities", current.municipalities.all(), municipalities),
        ("organisations", current.organisations.all(), organisations),
        ("solutions", current.solutions.all(), form.cleaned_data["solutions"]),
    ):
        saved, typed = sorted(map(str, saved)), sorted(map(str, typed))
        if saved != typed:
            rows.append(
                {
                    "label": form.fields[name].label,
                    "saved": ", ".join(saved),
                    "typed": ", ".join(typed),
                }
            )
    return rows


@login_required
@require_safe
def agreement_document(request, pk):
    agreement = get_object_or_404(IntentAgreement.objects.visible_to(request.user), pk=pk)
    current = agreement.current_document
    return _pdf_response(current.file if current else None)


@login_required
@require_safe
def agreement_document_version(request, pk, document_pk):
    """Any version of the agreement's document, current or earlier, to those who can see
    the agreement (the same 404 outside their reach as for no such version)."""
    agreement = get_object_or_404(IntentAgreement.objects.visible_to(request.user), pk=pk)
    version = get_object_or_404(agreement.documents, pk=document_pk)
    return _pdf_response(version.file)


# --- benefit register -----------------------------------------------------------------


def _levels(summary) -> dict:
    """The summary's mean levels, for display next to the target (a level of the
    indicator, e.g. 15 minutes per admission): the mean baseline, the mean latest level and
    how far that has come towards the target."""
    return {
        "n": summary.n,
        "baseline": summary.mean_baseline,
        "latest": summary.mean_latest,
        "improvement": summary.mean_improvement,
        "progress": summary.progress,
    }


def _figures(summary) -> list[dict]:
    """The benefit's figures with the status report's labels (benefits.reports), so the
    page and the files name and show the same numbers."""
    columns = status_reports.benefit_columns()
    values = status_reports.benefit_row(summary)
    return [
        {"label": c.label, "value": v, "kind": c.kind}
        for c, v in zip(columns[1:], values[1:], strict=True)
    ]


@login_required
@require_safe
def benefit_register(request):
    """The five goals with their benefits; each benefit's realised change with its coverage."""
    goals = BenefitGoal.objects.prefetch_related(
        Prefetch("benefits", queryset=Benefit.objects.prefetch_related("solutions"))
    )
    benefits = [benefit for goal in goals for benefit in goal.benefits.all()]
    # The figures of all benefits at once (the page shows no breakdown by area or county).
    for benefit, summary in zip(
        benefits, selectors.benefit_summaries(benefits, request.user), strict=True
    ):
        benefit.summary = summary
        benefit.levels = _levels(summary)
        benefit.figures = _figures(summary)
    return render(
        request,
        "benefits/benefit_register.html",
        {"goals": goals, "can_report": scoping.scope_for(request.user).can_edit},
    )


@login_required
@require_safe
def benefit_detail(request, pk):
    benefit = get_object_or_404(
        Benefit.objects.select_related("goal").prefetch_related("solutions"), pk=pk
    )
    summary = selectors.benefit_summary(benefit, request.user)
    realisations = sorted(
        (
            {
                "r": r,
                "change": r.latest - r.baseline,
                "improvement": r.improvement(benefit.direction),
            }
            for r in summary.realisations
        ),
        key=lambda row: (-row["improvement"], row["r"].reporter),
    )
    shown = realisations[:CHART_REPORTERS]
    chart = {
        "type": "bar",
        "horizontal": True,
        "label": _("Improvement (%(unit)s)") % {"unit": summary.change_unit},
        "labels": [row["r"].reporter for row in shown],
        "values": [float(row["improvement"]) for row in shown],
    }
    reports = (
        BenefitReport.objects.visible_to(request.user)
        .filter(benefit=benefit)
        .select_related("municipality", "organisation")
        .order_by("-updated_at")[:50]
    )
    return render(
        request,
        "benefits/benefit_detail.html",
        {
            "benefit": benefit,
            "summary": summary,
            "levels": _levels(summary),
            "figures": _figures(summary),
            "realisations": realisations,
            "chart": chart,
            "chart_height": chart_height(len(shown)),
            "chart_cut": len(realisations) > CHART_REPORTERS,
            "reports": reports,
            "can_report": scoping.scope_for(request.user).can_edit,
            "higher_is_better": benefit.direction == Direction.HIGHER,
        },
    )


@login_required
@require_safe
def overview(request):
    """The directorate's picture: realised benefit against target, always with coverage;
    who started without a baseline; what waits for review."""
    user = request.user
    benefits = Benefit.objects.select_related("goal").prefetch_related("solutions")
    cards = [
        {"summary": summary, "levels": _levels(summary), "figures": _figures(summary)}
        for summary in selectors.benefit_summaries(benefits, user)
    ]
    chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [c["summary"].benefit.name for c in cards],
        "datasets": [
            {
                "label": _("Of the way from the baseline to the target (%)"),
                "data": [
                    round(c["levels"]["progress"] * 100, 1)
                    if c["levels"]["progress"] is not None
                    else 0
                    for c in cards
                ],
                "color": COLOUR_BEYOND,
            },
            {
                "label": _("Reporters of those expected (%)"),
                "data": [
                    None if c["summary"].coverage is None else round(c["summary"].coverage * 100, 1)
                    for c in cards
                ],
                "color": COLOUR_COVERED,
            },
        ],
    }
    waiting = (
        BenefitReport.objects.visible_to(user)
        .filter(status=ReportStatus.SUBMITTED)
        .select_related("benefit", "municipality", "organisation")
        .order_by("submitted_at", "id")[:100]
    )
    own = (
        BenefitReport.objects.editable_by(user)
        .filter(status__in=EDITABLE_REPORT)
        .select_related("benefit", "municipality", "organisation")
        .order_by("-updated_at")[:50]
    )
    scope = scoping.scope_for(user)
    # Counted in full, listed in part.
    missing_groups = selectors.missing_baseline_groups(user, MISSING_SHOWN, benefits)
    return render(
        request,
        "benefits/overview.html",
        {
            "cards": cards,
            "chart": chart,
            "chart_height": chart_height(len(cards)),
            "missing_groups": missing_groups,
            "missing_total": sum(g["count"] for g in missing_groups),
            "missing_shown": MISSING_SHOWN,
            "waiting": waiting,
            "own": own,
            "can_review": scope.role in services.BENEFIT_REVIEWERS,
            "can_report": scope.can_edit,
        },
    )


# --- benefit reports ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report_create(request):
    if not scoping.scope_for(request.user).can_edit:
        raise PermissionDenied
    initial = {}
    benefit_id = request.GET.get("benefit", "")
    if benefit_id.isdigit() and Benefit.objects.filter(pk=benefit_id).exists():
        initial["benefit"] = int(benefit_id)
    return _report_form(request, None, initial)


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request, pk):
    report = get_object_or_404(BenefitReport.objects.editable_by(request.user), pk=pk)
    if report.status not in EDITABLE_REPORT:
        messages.info(request, _("A submitted or approved report cannot be changed."))
        return redirect(report)
    return _report_form(request, report, {})


def _report_form(request, report, initial):
    post = request.method == "POST"
    form = BenefitReportForm(
        request.POST if post else None,
        request.FILES if post else None,
        instance=copy.copy(report) if report else None,
        initial=initial,
        user=request.user,
    )
    if post and form.is_valid():
        ok, saved = save_to_form(
            form,
            lambda: services.benefit_report_save(
                user=request.user,
                report_id=report.pk if report else None,
                expected_version=form.cleaned_data["version"] if report else None,
                fields=form.fields_for_service(),
                attachment=form.cleaned_data["attachment"],
            ),
            not_found=BenefitReport.DoesNotExist,
        )
        if ok:
            messages.success(
                request,
                _("Saved as a draft. Check it, then submit it for review."),
            )
            return redirect(saved)
    benefit = None
    benefit_id = form["benefit"].value()
    if benefit_id and str(benefit_id).isdigit():
        benefit = Benefit.objects.filter(pk=benefit_id).first()
    return render(
        request,
        "benefits/report_form.html",
        {
            "form": form,
            "report": report,
            "benefit": benefit,
            "file_lost": post and bool(request.FILES) and not form.is_valid(),
        },
    )


@login_required
@require_safe
def report_organisation_options(request):
    """The organisation select for the chosen municipality (swapped in by htmx)."""
    if not scoping.scope_for(request.user).can_edit:
        raise PermissionDenied
    form = BenefitReportForm(
        {"municipality": request.GET.get("municipality", "")}, user=request.user
    )
    return render(request, "benefits/_organisation_select.html", {"field": form["organisation"]})


def _report_context(request, report, review_form=None) -> dict:
    user = request.user
    editable = (
        report.status in EDITABLE_REPORT
        and BenefitReport.objects.editable_by(user).filter(pk=report.pk).exists()
    )
    baseline = None
    if report.kind == MeasurementKind.FOLLOW_UP:
        baseline = (
            BenefitReport.objects.visible_to(user)
            .filter(
                benefit=report.benefit_id,
                municipality=report.municipality_id,
                organisation=report.organisation_id,
                kind=MeasurementKind.BASELINE,
            )
            .exclude(status=ReportStatus.RETURNED)
            .order_by("period_end", "id")
            .first()
        )
    change = None
    if baseline is not None:
        change = report.value - baseline.value
    can_review, review_refused = services.BENEFIT_REVIEW.review_state(user, report)
    return {
        "report": report,
        "warning": selectors.late_baseline_warning(report),
        "editable": editable,
        "can_review": can_review,
        "review_refused": review_refused,
        "review_form": review_form or ReviewForm(initial={"version": report.version}),
        "baseline": baseline,
        "change": change,
        "improved": None
        if change is None or change == Decimal(0)
        else (change > 0) == (report.benefit.direction == Direction.HIGHER),
    }


def _visible_report(user, pk) -> BenefitReport:
    return get_object_or_404(
        BenefitReport.objects.visible_to(user).select_related(
            "benefit__goal",
            "municipality",
            "organisation__type",
            "created_by",
            "submitted_by",
            "reviewed_by",
        ),
        pk=pk,
    )


@login_required
@require_safe
def report_detail(request, pk):
    report = _visible_report(request.user, pk)
    return render(request, "benefits/report_detail.html", _report_context(request, report))


@login_required
@require_POST
def report_submit(request, pk):
    report = get_object_or_404(BenefitReport.objects.editable_by(request.user), pk=pk)
    ok, _submitted = save_or_message(
        request,
        lambda: services.benefit_report_submit(
            user=request.user, report_id=pk, expected_version=_version(request.POST.get("version"))
        ),
    )
    if ok:
        messages.success(request, _("Submitted for review. You are told when it is reviewed."))
    return redirect(report)


@login_required
@require_POST
def report_review(request, pk):
    report = _visible_report(request.user, pk)
    if not services.BENEFIT_REVIEW.is_reviewer(request.user):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if form.is_valid():
        ok, outcome = save_to_form(
            form,
            lambda: services.benefit_report_review(
                user=request.user, report_id=pk, **form.verdict()
            ),
            refused=(SelfReview,),
        )
        if ok:
            messages.success(request, _("Review saved; the reporter has been told."))
            return redirect(report)
        if isinstance(outcome, SelfReview):
            # The page offers the submitter no review form (this one is from before they
            # submitted): say why above the report instead.
            messages.error(request, str(outcome))
            return redirect(report)
        report = _visible_report(request.user, pk)
    return render(
        request, "benefits/report_detail.html", _report_context(request, report, review_form=form)
    )


@login_required
@require_safe
def report_attachment(request, pk):
    report = get_object_or_404(BenefitReport.objects.visible_to(request.user), pk=pk)
    return _pdf_response(report.attachment)
