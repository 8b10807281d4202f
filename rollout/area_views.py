"""The area pages of an area-wise solution: the area's readiness and its rollout settings.

The area page shows the verdict and summaries by organisation type; its list of actors
comes a page at a time, filtered (type, status, ready, a condition it fails), from
`area_actors` (swapped in by htmx) or inline when the page is asked with those filters
(without JavaScript) or the area is small."""

from collections import Counter

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from actors import scoping
from actors.forms import save_to_form
from actors.listing import OrderedByGroup, page_of, query_without, quick_selects
from actors.models import HealthTrust

from . import conditions, selectors, services
from .choices import STATUS_COLOURS, STATUS_ORDER, Status
from .forms import AreaRolloutForm
from .models import Solution
from .selectors import AREA_ACTOR_ORDER

PAGE_SIZE = 50  # actors per page of an area's list
FILTERS = ("type", "status", "ready", "fails", "page")  # asking for any shows the list
READY = {"ja": True, "nei": False}


def _area(request, code, trust) -> tuple[Solution, HealthTrust]:
    """The area-wise solution and the health trust (as far as the user can see it)."""
    solution = get_object_or_404(Solution, code=code)
    if not solution.area_wise:
        raise Http404
    return solution, get_object_or_404(HealthTrust.objects.visible_to(request.user), code=trust)


class ActorFilter(forms.Form):
    """Which of an area's actors its list shows."""

    type = forms.ChoiceField(label=gettext_lazy("Type"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    ready = forms.ChoiceField(
        label=gettext_lazy("Ready"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            ("ja", gettext_lazy("Ready")),
            ("nei", gettext_lazy("Not ready")),
        ],
    )
    fails = forms.ChoiceField(label=gettext_lazy("Fails"), required=False)

    def __init__(self, data, *, types, fails):
        """`types`: the organisation types to choose from; `fails`: (name, label) of the
        conditions to choose from."""
        super().__init__(data)
        everything = ("", _("All"))
        self.fields["type"].choices = [everything, *((t.code, t.name) for t in types)]
        self.fields["status"].choices = [everything, *((s, Status(s).label) for s in STATUS_ORDER)]
        self.fields["fails"].choices = [("", "–"), *fails]
        quick_selects(self)

    def lookups(self) -> dict:
        """The filters understood, as lookups for selectors.area_actor_rows (invalid ones
        are left out and shown as errors)."""
        self.is_valid()
        chosen = self.cleaned_data
        return {
            "type__code": chosen.get("type") or None,
            "current_status": chosen.get("status") or None,
            "is_ready": READY.get(chosen.get("ready")),
        }


def _page_links(page) -> dict[str, list[tuple[str, int]]]:
    """(label, page number) of the links before and after "Page n of m"."""
    before, after = [], []
    if page.number > 2:
        before.append(("« " + _("First"), 1))
    if page.has_previous():
        before.append(("← " + _("Previous"), page.previous_page_number()))
    if page.has_next():
        after.append((_("Next") + " →", page.next_page_number()))
    if page.number < page.paginator.num_pages - 1:
        after.append((_("Last") + " »", page.paginator.num_pages))
    return {"before": before, "after": after}


def _failing_actors(request, solution, trust, name: str) -> list:
    """The area's actors the condition `name` fails for, in the order of its list of
    actors: only that condition is evaluated."""
    facts = selectors.area_facts(solution, trust, request.user, ordered=True)
    (condition,) = conditions.evaluate(facts, only=[name])
    return condition.failing_actors or []


def _actors(request, solution, trust, actor_filter) -> dict:
    """The page of the area's actors its filters ask for, and the links to other pages."""
    filters = actor_filter.lookups()
    rows = selectors.area_actor_rows(solution, trust, request.user, **filters)
    if fails := actor_filter.cleaned_data.get("fails"):
        ids = [a.pk for a in _failing_actors(request, solution, trust, fails)]
        if any(value is not None for value in filters.values()):
            allowed = set(rows.order_by().values_list("pk", flat=True))
            ids = [pk for pk in ids if pk in allowed]
        page = page_of(request, ids, PAGE_SIZE)
        found = rows.in_bulk(page.object_list)  # the page's rows, read by pk
        page.object_list = [found[pk] for pk in page.object_list]
    else:
        # A page sorts only the rows of the types it shows (grouped by their sort order).
        page = page_of(request, OrderedByGroup(rows, AREA_ACTOR_ORDER), PAGE_SIZE)
    return {
        "page": page,
        "page_links": _page_links(page),
        "query": query_without(request, "page"),
        "show_type": not filters["type__code"],
        "filter_errors": {"form": actor_filter, "errors": actor_filter.errors},
        "page_url": reverse("rollout:area_detail", args=[solution.code, trust.code]),
        "actors_url": reverse("rollout:area_actors", args=[solution.code, trust.code]),
    }


@login_required
def area_detail(request, code, trust):
    solution, trust = _area(request, code, trust)
    area = services.area_rollout_for(solution, trust)
    readiness = selectors.area_readiness(solution, trust, request.user)
    scope = scoping.scope_for(request.user)
    can_edit = (
        scope.role in services.OVERRIDE_ROLES
        and scope.filter_editable(HealthTrust.objects.filter(pk=trust.pk)).exists()
    )
    actor_filter = ActorFilter(
        request.GET,
        types=[g["type"] for g in readiness.by_type],
        fails=[
            (c.name, f"{c.label} ({len(c.failing_actors)})")
            for c in readiness.conditions
            if c.failing_actors is not None
        ],
    )
    actors = {}
    if readiness.total <= PAGE_SIZE or any(name in request.GET for name in FILTERS):
        actors = _actors(request, solution, trust, actor_filter)
    return render(
        request,
        "rollout/area_detail.html",
        actors
        | {
            "solution": solution,
            "trust": trust,
            "area": area,
            "readiness": readiness,
            "counts": sum((g["counts"] for g in readiness.by_type), Counter()),
            "threshold": float(solution.ready_share_threshold),
            "area_answers": selectors.area_prerequisite_answers(solution, trust),
            "can_edit": can_edit,
            "colours": STATUS_COLOURS,
            "phase_changes": solution.phase_changes.filter(health_trust=trust)[:10],
            "actor_filter": actor_filter,
            "actors": bool(actors),
            "actors_url": reverse("rollout:area_actors", args=[solution.code, trust.code]),
        },
    )


@login_required
def area_actors(request, code, trust):
    """A page of the area's actors (htmx swaps it into the area page). Without htmx, the
    area page itself shows the same page of the list."""
    solution, trust = _area(request, code, trust)
    page_url = reverse("rollout:area_detail", args=[solution.code, trust.code])
    query = request.GET.urlencode()
    if not request.headers.get("HX-Request"):
        return redirect(f"{page_url}?{query}#actors")

    actor_filter = ActorFilter(
        request.GET,
        types=solution.organisation_types.all(),
        fails=[(name, name) for name in conditions.names()],
    )
    response = render(
        request,
        "rollout/_area_actors.html",
        _actors(request, solution, trust, actor_filter),
    )
    response["HX-Push-Url"] = f"{page_url}?{query}"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def area_edit(request, code, trust):
    solution = get_object_or_404(Solution, code=code, area_wise=True)
    trust = get_object_or_404(HealthTrust.objects.editable_by(request.user), code=trust)
    if scoping.scope_for(request.user).role not in services.OVERRIDE_ROLES:
        raise PermissionDenied
    area = services.area_rollout_for(solution, trust)
    form = AreaRolloutForm(request.POST or None, instance=area)
    if request.method == "POST" and form.is_valid():
        ok, _saved = save_to_form(
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
