"""What governance adds to the pages of the apps below it (registered in
BenefitsConfig.ready(), see actors/pages.py): deadlines and what is due on the start page,
the external deliveries a solution waits for on its page."""

from __future__ import annotations

from actors import pages, scoping

from . import dependencies


def home(request, **_objects) -> dict:
    if not scoping.scope_for(request.user).role:
        return {}
    return {
        "deadlines": dependencies.upcoming_deadlines(),
        "due": [
            (dependencies.kind_label(kind), items)
            for kind, items in dependencies.reminders_due(request.user).items()
        ],
    }


def solution_detail(request, *, solution, **_objects) -> dict:
    return {"waiting_for": list(dependencies.open_dependencies(solution))}


def register() -> None:
    pages.contribute("home", home)
    pages.contribute("solution_detail", solution_detail)
