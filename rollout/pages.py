"""What rollout adds to actors' pages (registered in RolloutConfig.ready(), see
actors/pages.py): the rollout grid of a municipality, the statuses and history of an
organisation."""

from __future__ import annotations

from actors import pages

from . import corrections, selectors


def municipality_detail(request, *, municipality, organisations=None, **_objects) -> dict:
    """The statuses of the organisations the page shows (all of the municipality's when
    it names none)."""
    solutions, grid = selectors.municipality_grid(request.user, municipality, organisations)
    return {"solutions": solutions, "grid": grid}


def organisation_detail(request, *, organisation, **_objects) -> dict:
    context = selectors.organisation_rollout(request.user, organisation)
    # Corrected entries are marked in the history (“rettet … av …”).
    return {**context, "history": corrections.with_corrections(context["history"])}


def register() -> None:
    pages.contribute("municipality_detail", municipality_detail)
    pages.contribute("organisation_detail", organisation_detail)
