"""The readiness report page: groups by organisation type (opened one at a time, loaded
when opened), a filter, answers saved in the background or by the group's form, a refused
submission marked on its rows, and the reviewer's summary of what is not ready."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from actors.concurrency import VersionConflict
from actors.forms import refusal_text, save_to_form

from . import readiness, services
from .choices import Answer
from .forms import ReportAnswersForm, ReviewForm
from .models import ReadinessReport

ERRORS_LISTED = 10


def _report(request, pk) -> tuple[ReadinessReport, bool]:
    """The report if the user may see it (else 404), and whether they may change it now."""
    report = get_object_or_404(
        ReadinessReport.objects.visible_to(request.user).select_related(
            "solution", "municipality", "reviewed_by", "submitted_by"
        ),
        pk=pk,
    )
    editable = (
        report.is_editable
        and ReadinessReport.objects.editable_by(request.user).filter(pk=pk).exists()
    )
    return report, editable


def _url(report, *, vis="", gruppe="", side=1, kontroll=False, part=False) -> str:
    """The report page (`part`: only the group) with these choices."""
    params = {"vis": vis, "gruppe": gruppe}
    if side and str(side).isdigit() and int(side) > 1:
        params["side"] = side
    if kontroll:
        params["kontroll"] = 1
    if part:
        params["del"] = 1
    query = urlencode({k: v for k, v in params.items() if v})
    return report.get_absolute_url() + (f"?{query}" if query else "")


def _group_links(report, page: readiness.GroupPage, kontroll: bool) -> dict:
    def to(number):
        return _url(report, vis=page.filter, gruppe=page.group.key, side=number, kontroll=kontroll)

    return {
        "previous": to(page.number - 1) if page.has_previous else "",
        "next": to(page.number + 1) if page.has_next else "",
    }


def _opened(all_groups, problems, *, chosen, key, number, editable, first) -> dict[str, int]:
    """{group key: page} of the groups shown open: every group of a small report; then
    the group asked for (`key`), or the one with the first problem (`first`: after a
    refused submission, whatever was asked for), or the first that needs work."""
    if sum(g.total for g in all_groups) <= readiness.ALL_OPEN_UP_TO:
        opened = {g.key: 1 for g in all_groups}
    else:
        opened = {}
    if problems and (first or not key):
        group = readiness.group_of(all_groups, problems[0])
        opened[group.key] = readiness.page_of_row(group, problems[0].id, chosen=chosen)
    elif key and any(g.key == key for g in all_groups):
        opened[key] = number
    elif not opened and all_groups:
        if editable:
            needs_work = [g for g in all_groups if not g.complete]
        else:
            needs_work = [g for g in all_groups if g.ready < g.total]
        opened[(needs_work or all_groups)[0].key] = 1
    return opened


def _context(request, report, rows, *, editable, problems, form=None, first=False) -> dict:
    chosen = request.GET.get("vis", "")
    chosen = chosen if chosen in readiness.FILTERS else ""
    kontroll = bool(problems)
    try:
        number = int(request.GET.get("side") or 1)
    except ValueError:
        number = 1
    all_groups = readiness.groups(rows)
    opened = _opened(
        all_groups,
        problems,
        chosen=chosen,
        key=request.GET.get("gruppe", ""),
        number=number,
        editable=editable,
        first=first,
    )
    shown = []
    for g in all_groups:
        page = (
            readiness.group_page(g, chosen=chosen, number=opened[g.key])
            if g.key in opened
            else None
        )
        shown.append(
            {
                "group": g,
                "page": page,
                "links": _group_links(report, page, kontroll) if page else {},
                "open_url": _url(report, vis=chosen, gruppe=g.key, kontroll=kontroll),
                "save_url": _url(report, vis=chosen, gruppe=g.key, side=page.number if page else 1),
                "fragment_url": _url(
                    report, vis=chosen, gruppe=g.key, kontroll=kontroll, part=True
                ),
            }
        )
    first_row = problems[0] if problems else None
    can_review, review_refused = services.READINESS_REVIEW.review_state(request.user, report)
    return {
        "report": report,
        "editable": editable,
        "groups": shown,
        "answered": sum(g.answered for g in all_groups),
        "ready": sum(g.ready for g in all_groups),
        "total": len(rows),
        "filters": readiness.FILTERS,
        "chosen": chosen,
        "answer_choices": Answer.choices,
        "problems": [
            {
                "text": readiness.problem_text(r),
                "url": _problem_url(report, all_groups, r, chosen),
            }
            for r in problems[:ERRORS_LISTED]
        ],
        "more_problems": max(0, len(problems) - ERRORS_LISTED),
        "problem_count": len(problems),
        "first_problem": first_row.id if first_row else None,
        "form": form,
        "summary": None if report.is_editable else readiness.not_ready_summary(all_groups),
        "can_review": can_review,
        "review_refused": review_refused,
        "review_form": ReviewForm(initial={"version": report.version}),
    }


def _problem_url(report, all_groups, row, chosen) -> str:
    group = readiness.group_of(all_groups, row)
    number = readiness.page_of_row(group, row.id, chosen=chosen)
    return _url(report, vis=chosen, gruppe=group.key, side=number, kontroll=1) + f"#a{row.id}"


@login_required
@require_http_methods(["GET", "POST"])
def report_detail(request, pk):
    """The report: GET shows it (`?vis=` filter, `?gruppe=&side=` a group's page,
    `?kontroll=1` marks what blocks a submission, `&del=1` only the group, for loading it
    when opened); POST saves a group's answers (`save`) or submits (`submit`)."""
    report, editable = _report(request, pk)
    rows = readiness.report_rows(report)
    kontroll = editable and request.GET.get("kontroll") == "1"
    problems = readiness.mark_problems(rows) if kontroll else []
    if request.method == "GET" and request.GET.get("del") == "1":
        context = _context(request, report, rows, editable=editable, problems=problems)
        wanted = request.GET.get("gruppe", "")
        item = next((g for g in context["groups"] if g["group"].key == wanted), None)
        if item is None or item["page"] is None:
            raise Http404  # not a group of this report
        return render(request, "rollout/_report_group_body.html", {**context, "g": item})
    if request.method == "GET":
        context = _context(request, report, rows, editable=editable, problems=problems)
        return render(request, "rollout/report_detail.html", context)
    if not editable:
        raise PermissionDenied
    form = ReportAnswersForm(request.POST, rows=rows)
    if form.is_valid():
        submit = "submit" in request.POST
        version = form.cleaned_data["version"]
        ok, outcome = True, None
        if form.rows:
            ok, outcome = save_to_form(
                form,
                lambda: services.report_save_answers(
                    user=request.user, report_id=pk, expected_version=version, answers=form.values()
                ),
            )
            version = outcome.version if ok else version
        if ok and submit:
            ok, outcome = save_to_form(
                form,
                lambda: services.report_submit(
                    user=request.user, report_id=pk, expected_version=version
                ),
            )
        if ok:
            if submit:
                messages.success(request, _("Report submitted for review."))
                return redirect(report)
            messages.success(request, _("Draft saved."))
            gruppe = request.POST.get("gruppe", "")
            return redirect(
                _url(
                    report,
                    vis=request.GET.get("vis", ""),
                    gruppe=gruppe,
                    side=request.GET.get("side"),
                )
                + (f"#gruppe-{gruppe}" if gruppe else "")
            )
        report.refresh_from_db()
        rows = readiness.report_rows(report)
        if submit and not isinstance(outcome, VersionConflict):
            # Saved as a draft; the submission was refused: mark the rows, first one open.
            problems = readiness.mark_problems(rows)
    context = _context(
        request, report, rows, editable=editable, problems=problems, form=form, first=True
    )
    return render(request, "rollout/report_detail.html", context)


@login_required
@require_POST
def report_answers_save(request, pk):
    """Save the answers sent (only the changed ones) in the background: JSON with the
    report's new version and each group's progress; 409 when someone saved in between,
    400 for what cannot be saved, 403 when the user may see but not change the report,
    404 outside their scope."""
    report, editable = _report(request, pk)
    if not editable:
        return JsonResponse({"error": _("You cannot change this report.")}, status=403)
    form = ReportAnswersForm(request.POST, rows=readiness.report_rows(report))
    if not form.is_valid():
        fields = [str(e) for errors in form.errors.values() for e in errors]
        return JsonResponse({"error": " ".join(fields)}, status=400)
    ok, outcome = save_to_form(
        form,
        lambda: services.report_save_answers(
            user=request.user,
            report_id=pk,
            expected_version=form.cleaned_data["version"],
            answers=form.values(),
        ),
    )
    if not ok:
        conflict = isinstance(outcome, VersionConflict)
        return JsonResponse(
            {
                "error": refusal_text(outcome),
                "conflict": conflict,
                "reload": reverse("rollout:report_detail", args=[pk]),
            },
            status=409 if conflict else 400,
        )
    rows = readiness.report_rows(outcome)
    return JsonResponse(
        {
            "version": outcome.version,
            "saved": len(form.rows),
            "groups": {g.key: g.progress() for g in readiness.groups(rows)},
        }
    )
