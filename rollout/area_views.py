"""The area pages of an area-wise solution: the area's readiness and its rollout settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from actors import scoping
from actors.forms import save_to_form
from actors.models import HealthTrust

from . import selectors, services
from .choices import STATUS_COLOURS
from .forms import AreaRolloutForm
from .models import Solution


def _area_solution(code) -> Solution:
    solution = get_object_or_404(Solution, code=code)
    if not solution.area_wise:
        raise Http404
    return solution


@login_required
def area_detail(request, code, trust):
    solution = _area_solution(code)
    trust = get_object_or_404(HealthTrust.objects.visible_to(request.user), code=trust)
    area = services.area_rollout_for(solution, trust)
    readiness = selectors.area_readiness(solution, trust, request.user)
    scope = scoping.scope_for(request.user)
    can_edit = (
        scope.role in services.OVERRIDE_ROLES
        and scope.filter_editable(HealthTrust.objects.filter(pk=trust.pk)).exists()
    )
    return render(
        request,
        "rollout/area_detail.html",
        {
            "solution": solution,
            "trust": trust,
            "area": area,
            "readiness": readiness,
            "threshold": float(solution.ready_share_threshold),
            "area_answers": selectors.area_prerequisite_answers(solution, trust),
            "can_edit": can_edit,
            "colours": STATUS_COLOURS,
            "phase_changes": solution.phase_changes.filter(health_trust=trust)[:10],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def area_edit(request, code, trust):
    solution = _area_solution(code)
    trust = get_object_or_404(HealthTrust.objects.editable_by(request.user), code=trust)
    if scoping.scope_for(request.user).role not in services.OVERRIDE_ROLES:
        raise PermissionDenied
    area = services.area_rollout_for(solution, trust)
    form = AreaRolloutForm(request.POST or None, instance=area)
    if request.method == "POST" and form.is_valid():
        ok, _area = save_to_form(
            form,
            lambda: services.area_rollout_update(
                user=request.user,
                solution=solution,
                health_trust=trust,
                expected_version=form.cleaned_data["version"],
                **{f: form.cleaned_data[f] for f in services.AREA_FIELDS},
            ),
        )
        if ok:
            messages.success(request, _("Area rollout saved."))
            return redirect("rollout:area_detail", solution.code, trust.code)
    return render(
        request, "rollout/area_form.html", {"form": form, "solution": solution, "trust": trust}
    )
