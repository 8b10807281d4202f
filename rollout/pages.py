"""What rollout adds to actors' pages (registered in RolloutConfig.ready(), see
actors/pages.py): the rollout grid of a municipality, the statuses and history of an
organisation."""

from __future__ import annotations

from actors import pages

from . import selectors


def municipality_detail(request, *, municipality, **_objects) -> dict:
    solutions, grid = selectors.municipality_grid(request.user, municipality)
    return {"solutions": solutions, "grid": grid}


def organisation_detail(request, *, organisation, **_objects) -> dict:
    return selectors.organisation_rollout(request.user, organisation)


def register() -> None:
    pages.contribute("municipality_detail", municipality_detail)
    pages.contribute("organisation_detail", organisation_detail)
