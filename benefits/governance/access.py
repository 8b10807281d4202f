"""Who may read and who may change governance records (decision points, decisions, the
change log, the cut list): the one place that decides it, for the UI and the API alike.

- The directorate owns the programme: it prepares briefs, records decisions and closes
  decision points, keeps the change log and the cut list. National coordinators and
  administrators may do the same (`can_govern`).
- Area coordinators and municipality contacts read the points, the change log and the cut
  list (programme documents, like the national target figures), but change nothing here.
  The parts of a brief that name places or free-text reasons beyond their reach (the
  assumptions per area and the blocking reasons) are shown only to those who see
  everything (`briefs.brief_for`).
- Users without a role see nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy

from actors import scoping
from actors.choices import Role


def can_read(user) -> bool:
    """Every user with a role reads decision points, the change log and the cut list."""
    return bool(scoping.scope_for(user).role)


def can_govern(user) -> bool:
    """The directorate, national coordinators and administrators prepare briefs, record
    decisions and keep the change log and the cut list."""
    scope = scoping.scope_for(user)
    if scope.role in (Role.DIRECTORATE, Role.ADMIN):
        return True
    return scope.role == Role.COORDINATOR and scope.edits_all


GOVERN_MESSAGE = gettext_lazy(
    "Only the directorate, national coordinators and administrators record decisions and "
    "keep the change log and the cut list."
)


def require_govern(user) -> None:
    if not can_govern(user):
        raise PermissionDenied(str(GOVERN_MESSAGE))


def user_or_none(user):
    return user if getattr(user, "pk", None) else None
