"""The integrity check's page: recent runs, the findings of one in plain language, and a
repair per finding or for all (administrators; national coordinators may read)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from actors.forms import save_or_message

from . import integrity
from .models import IntegrityCheckRun

RUNS_SHOWN = 15


@login_required
@require_http_methods(["GET", "POST"])
def integrity_page(request):
    if not integrity.can_view(request.user):
        raise PermissionDenied(_("The integrity check is for administrators."))
    may_repair = integrity.can_repair(request.user)
    if request.method == "POST":
        if not may_repair:
            raise PermissionDenied(_("Only administrators can run the integrity check."))
        run = integrity.run_check(trigger=IntegrityCheckRun.Trigger.PAGE, user=request.user)
        _say_result(request, run)
        return redirect(f"{request.path}?run={run.pk}")
    runs = list(IntegrityCheckRun.objects.select_related("started_by")[:RUNS_SHOWN])
    run = None
    if request.GET.get("run", "").isdigit():
        run = get_object_or_404(IntegrityCheckRun, pk=request.GET["run"])
    elif runs:
        run = runs[0]
    labels = {c.name: c.label for c in integrity.checks()}
    findings = [
        {**f, "text": integrity.describe(f), "check_label": labels.get(f.get("check"), "")}
        for f in (run.findings if run else [])
    ]
    return render(
        request,
        "rollout/integrity.html",
        {
            "runs": runs,
            "run": run,
            "findings": findings,
            "is_latest": bool(run and runs and run.pk == runs[0].pk),
            "may_repair": may_repair,
        },
    )


def _say_result(request, run: IntegrityCheckRun) -> None:
    if run.finding_count:
        messages.error(
            request,
            ngettext(
                "The check found %(n)s disagreement; the administrators were e-mailed.",
                "The check found %(n)s disagreements; the administrators were e-mailed.",
                run.finding_count,
            )
            % {"n": run.finding_count},
        )
    else:
        messages.success(
            request, _("The check found nothing: history, statuses and figures agree.")
        )


@login_required
@require_POST
def integrity_repair(request):
    if not integrity.can_repair(request.user):
        raise PermissionDenied(_("Only administrators can repair the history."))
    keys = None if request.POST.get("all") else request.POST.getlist("key")
    if keys == []:
        messages.error(request, _("Choose a finding to repair, or repair all."))
        return redirect("rollout:integrity")
    ok, outcome = save_or_message(
        request,
        lambda: integrity.repair_findings(
            user=request.user, reason=request.POST.get("reason", ""), keys=keys
        ),
    )
    if not ok:
        return redirect("rollout:integrity")
    messages.success(
        request,
        ngettext(
            "%(n)s correction written and recomputation asked for.",
            "%(n)s corrections written and recomputations asked for.",
            outcome.repaired,
        )
        % {"n": outcome.repaired}
        + " "
        + ngettext(
            "Checked again: %(f)s finding.",
            "Checked again: %(f)s findings.",
            outcome.run.finding_count,
        )
        % {"f": outcome.run.finding_count},
    )
    return redirect(f"{reverse('rollout:integrity')}?run={outcome.run.pk}")
