"""The change log: every decision and every change of scope, target or threshold is
appended here through `changelog_record` (append-only: the database refuses UPDATE and
DELETE)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from actors import scoping
from rollout.models import ChangeLogEntry, Decision, DecisionPoint

from .access import require_govern, user_or_none


def changelog_record(
    *,
    user,
    kind: str,
    title: str,
    reason: str,
    cost_benefit_note: str = "",
    subject: str = "",
    decision_point: DecisionPoint | None = None,
    decision: Decision | None = None,
) -> ChangeLogEntry:
    """Append one entry to the change log. Every change of scope, target or threshold, and
    every decision, calls this (other apps too: e.g. a target's threshold edited). The
    caller has checked the user's right to make the change itself; this only refuses
    users without a role."""
    if not scoping.scope_for(user).role:
        raise PermissionDenied(_("Your user has no role yet; ask an administrator."))
    entry = ChangeLogEntry(
        kind=kind,
        title=title.strip()[:300],
        reason=reason.strip(),
        cost_benefit_note=cost_benefit_note.strip(),
        subject=subject.strip()[:200],
        decision_point=decision_point,
        decision=decision,
        recorded_by=user_or_none(user),
    )
    entry.full_clean(exclude=["decision_point", "decision", "recorded_by"])
    entry.save()
    return entry


def changelog_entry_create(*, user, **fields) -> ChangeLogEntry:
    """A change recorded by hand in the change log (UI, API): governors only."""
    require_govern(user)
    with transaction.atomic():
        return changelog_record(user=user, **fields)
