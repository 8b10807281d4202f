"""The status list's bulk change in two steps: a preview of what the change does to each
selected organisation, then applying it (only the allowed changes, or all or nothing), and
the result with its refusals as CSV. The selection is the ticked rows, or everything the
list's filter matches, evaluated again within the user's editable scope at every step;
the preview waits in the session for the apply (rollout.bulk checks it against what the
preview saw)."""

from __future__ import annotations

import datetime
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from actors import exports, scoping
from actors.models import Organisation

from . import selectors
from .bulk import REFUSED, WHY, BulkPlan, Outcome, bulk_change
from .choices import Status
from .filtersets import OrganisationStatusFilterSet
from .forms import BulkPreviewForm
from .models import Solution

SESSION_KEY = "rollout_bulk"
SHOWN = 100  # rows per section on a page; the CSV has them all


def _require_editor(request) -> None:
    if not scoping.scope_for(request.user).can_edit:
        raise PermissionDenied


def _list_url(stored: dict | None) -> str:
    url = reverse("rollout:status_list")
    query = (stored or {}).get("filter") or ""
    return f"{url}?{query}" if query else url


def _selection(request, solution: Solution, params: dict) -> list[int]:
    """The selected organisation ids: the ticked ones, or with `everything` all that the
    list's filter matches among the organisations the user may change. A filter that is
    not valid (e.g. a municipality outside the user's reach) is refused."""
    if not params["everything"]:
        return list(params["organisations"])
    data = QueryDict(params["filter"] or "")
    if data.get("as_of"):
        raise ValidationError(_("The list shows a past day, which cannot be changed."))
    editable = selectors.applicable(Organisation.objects.editable_by(request.user), solution)
    filterset = OrganisationStatusFilterSet(
        data, queryset=editable, request=request, solution=solution
    )
    if not filterset.is_valid():
        raise ValidationError(
            [
                f"{filterset.form[name].label}: {' '.join(errors)}"
                for name, errors in filterset.errors.items()
            ]
        )
    ids = list(filterset.qs.order_by().values_list("pk", flat=True))
    if not ids:
        raise ValidationError(_("No organisation you can change matches the filter."))
    return ids


def _params(form) -> dict:
    data = form.cleaned_data
    return {
        "solution": data["solution"].code,
        "to_status": data["to_status"],
        "reason": data["reason"],
        "effective_date": data["effective_date"].isoformat() if data["effective_date"] else "",
        "override_reason": data["override_reason"],
        "everything": data["everything"],
        "filter": data["filter"],
        "organisations": [] if data["everything"] else data["organisations"],
    }


def _run(request, stored: dict, **kwargs) -> BulkPlan:
    """The stored change, for the selection as it is now (see rollout.bulk.bulk_change)."""
    solution = Solution.objects.get(code=stored["solution"])
    day = stored["effective_date"]
    return bulk_change(
        user=request.user,
        organisation_ids=_selection(request, solution, stored),
        solution=solution,
        to_status=stored["to_status"],
        reason=stored["reason"],
        effective_date=datetime.date.fromisoformat(day) if day else None,
        override_reason=stored["override_reason"],
        **kwargs,
    )


def _expected(stored: dict) -> dict[int, int]:
    return {int(pk): version for pk, version in stored["expected"]}


@login_required
@require_http_methods(["GET", "POST"])
def bulk_preview(request):
    """POST (from the status list): what the change would do to each selected organisation.
    GET with `?format=csv`: that preview as a file, as it stands now."""
    _require_editor(request)
    stored = request.session.get(SESSION_KEY)
    if request.method == "GET":
        if request.GET.get("format") == exports.CSV and stored and "expected" in stored:
            try:
                plan = _run(request, stored, expected=_expected(stored))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                return _csv(plan, "statusendring-forhandsvisning", plan.outcomes)
        return redirect(_list_url(stored))
    form = BulkPreviewForm(request.POST)
    plan, refusal = None, None
    if form.is_valid():
        params = _params(form)
        try:
            plan = _run(request, params)
        except ValidationError as exc:
            refusal = exc.messages
        except Organisation.DoesNotExist as exc:
            raise Http404 from exc
        else:
            params["token"] = secrets.token_urlsafe(12)
            params["expected"] = [[o.organisation.pk, o.version] for o in plan.outcomes]
            request.session[SESSION_KEY] = params
    return render(
        request,
        "rollout/bulk_preview.html",
        {
            "form": form,
            "plan": plan,
            "refusal": refusal,
            "token": plan and request.session[SESSION_KEY]["token"],
            "list_url": _list_url({"filter": form.data.get("filter", "")}),
            "shown": SHOWN,
        },
        status=400 if refusal else 200,
    )


@login_required
@require_POST
def bulk_apply(request):
    """Apply the previewed change (`mode`: "allowed" for the allowed changes only, "all"
    for all or nothing), checked again against what the preview saw."""
    _require_editor(request)
    stored = request.session.get(SESSION_KEY)
    if not stored or "expected" not in stored or stored["token"] != request.POST.get("token"):
        messages.error(
            request,
            _(
                "This preview was applied or replaced by a newer one, so nothing was "
                "changed. Select the organisations and preview the change again."
            ),
        )
        return redirect(_list_url(stored))
    try:
        plan = _run(
            request,
            stored,
            apply=True,
            allowed_only=request.POST.get("mode") == "allowed",
            expected=_expected(stored),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_list_url(stored))
    request.session[SESSION_KEY] = {
        **{k: stored[k] for k in ("solution", "to_status", "filter", "everything")},
        "applied": plan.applied,
        "changed": plan.changed,
        "unchanged": plan.unchanged,
        "not_previewed": plan.not_previewed,
        "gone": plan.gone,
        "refused": [[o.organisation.pk, o.from_status, o.why, o.message] for o in plan.refused],
    }
    return redirect("rollout:bulk_result")


@login_required
def bulk_result(request):
    """What the last applied bulk change did; `?format=csv`: its refusals as a file."""
    _require_editor(request)
    stored = request.session.get(SESSION_KEY)
    if not stored or "applied" not in stored:
        return redirect(_list_url(stored))
    solution = Solution.objects.get(code=stored["solution"])
    plan = BulkPlan(solution=solution, to_status=stored["to_status"])
    names = Organisation.objects.visible_to(request.user).select_related("municipality")
    found = names.in_bulk([pk for pk, *_rest in stored["refused"]])
    for pk, from_status, why, message in stored["refused"]:
        if pk in found:
            plan.outcomes.append(Outcome(found[pk], from_status, 0, REFUSED, why, message))
    if request.GET.get("format") == exports.CSV:
        return _csv(plan, "statusendring-avvist", plan.refused)
    return render(
        request,
        "rollout/bulk_result.html",
        {
            "stored": stored,
            "plan": plan,
            "to_label": Status(stored["to_status"]).label,
            "list_url": _list_url(stored),
            "shown": SHOWN,
        },
    )


def _csv(plan: BulkPlan, stem: str, outcomes):
    kinds = {
        "change": _("Will change"),
        "refused": _("Refused"),
        "unchanged": _("Has the status already"),
    }
    columns = [
        exports.Column(_("Organisation number"), width=12),
        exports.Column(_("Organisation"), width=40),
        exports.Column(_("Municipality"), width=20),
        exports.Column(_("Status now"), width=16),
        exports.Column(_("New status"), width=16),
        exports.Column(_("Outcome"), width=16),
        exports.Column(_("Refused because"), width=24),
        exports.Column(_("Message"), width=60),
    ]
    to_label = str(Status(plan.to_status).label)
    rows = (
        [
            o.organisation.orgnr,
            o.organisation.name,
            o.organisation.municipality.name,
            str(Status(o.from_status).label),
            to_label,
            kinds[o.kind],
            str(WHY[o.why]) if o.why else "",
            o.message,
        ]
        for o in outcomes
    )
    return exports.table_response(f"{stem}-{plan.solution.code}", columns, rows, exports.CSV)
