"""The page on which a coordinator corrects a wrong status (rollout.corrections)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from actors.concurrency import VersionConflict
from actors.forms import save_to_form
from actors.models import Organisation

from . import corrections, services
from .choices import Source
from .forms import StatusCorrectionForm
from .models import Solution


@login_required
@require_http_methods(["GET", "POST"])
def status_correct(request, pk, code):
    solution = get_object_or_404(Solution, code=code)
    organisation = get_object_or_404(
        Organisation.objects.editable_by(request.user).select_related("type", "municipality"),
        pk=pk,
    )
    if not corrections.may_correct(request.user):
        raise PermissionDenied(
            _(
                "Only a rollout coordinator can correct a status. If a status is wrong, "
                "ask your coordinator to correct it."
            )
        )
    current = services.current_status(organisation, solution)
    wrong = corrections.entry_to_correct(organisation, solution)
    form = StatusCorrectionForm(
        request.POST or None,
        initial={"version": current.version, "effective_date": wrong and wrong.effective_date},
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, outcome = save_to_form(
            form,
            lambda: corrections.status_correct(
                user=request.user,
                organisation=organisation,
                solution=solution,
                to_status=data["to_status"],
                reason=data["reason"],
                effective_date=data["effective_date"],
                expected_version=data["version"],
                source=Source.UI,
            ),
            not_found=(Organisation.DoesNotExist,),
        )
        if ok:
            messages.success(request, _("Status corrected. The history keeps both entries."))
            return redirect(reverse("rollout:status_change", args=[organisation.pk, code]))
        if isinstance(outcome, VersionConflict):
            conflict = current = outcome.current
            wrong = corrections.entry_to_correct(organisation, solution)
    return render(
        request,
        "rollout/status_correct.html",
        {
            "organisation": organisation,
            "solution": solution,
            "current": current,
            "wrong": wrong,
            "form": form,
            "conflict": conflict,
            **corrections.status_page_context(request.user, organisation, solution),
        },
    )
