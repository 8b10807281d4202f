"""What rollout adds to actors' pages (registered in RolloutConfig.ready(), see
actors/pages.py): deadlines and what is due on the start page, the rollout grid of a
municipality, the statuses and history of an organisation."""

from __future__ import annotations

from actors import pages, scoping

from . import selectors
from .governance import dependencies as governance


def home(request, **_objects) -> dict:
    if not scoping.scope_for(request.user).role:
        return {}
    return {
        "deadlines": governance.upcoming_deadlines(),
        "due": [
            (governance.kind_label(kind), items)
            for kind, items in governance.reminders_due(request.user).items()
        ],
    }


def municipality_detail(request, *, municipality, **_objects) -> dict:
    solutions, grid = selectors.municipality_grid(request.user, municipality)
    return {"solutions": solutions, "grid": grid}


def organisation_detail(request, *, organisation, **_objects) -> dict:
    return selectors.organisation_rollout(request.user, organisation)


def register() -> None:
    pages.contribute("home", home)
    pages.contribute("municipality_detail", municipality_detail)
    pages.contribute("organisation_detail", organisation_detail)
