"""Correcting a wrong status: a coordinator replaces the latest entry of a status history by
the right status, with a reason, by appending correction entries (nothing is rewritten).

How a correction is written, so that every reader of the history (statuses as of a day,
counts over time, the coverage replay, the integrity check) sees the corrected status from
the date given without knowing about corrections: the history's chain stays whole.

- Corrected status from the wrong entry's own date (the default): one entry on that date,
  from the wrong status to the right one. Recorded after the wrong entry, it wins that day,
  so the wrong status never counts on any day.
- From a later date: first an entry on the wrong entry's date back to the status before it
  (the wrong change is undone where it happened), then one on the date given to the right
  status (none when that is the status before the wrong entry: the change is undone).

Each of them is of kind “korreksjon” and points at the wrong entry (`corrects`), which the
history views show as corrected (“rettet <dato> av <bruker>: <begrunnelse>”).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext as _

from actors import scoping
from actors.concurrency import check_version
from actors.models import Organisation
from actors.services import coverage_changed

from .choices import Source, Status, StatusChangeKind
from .models import RolloutStatus, Solution, StatusChange
from .services import OVERRIDE_ROLES, current_status, today


def may_correct(user) -> bool:
    """Whether the user's role may correct statuses (where, is the scope's: editable_by)."""
    scope = scoping.scope_for(user)
    return scope.can_edit and scope.role in OVERRIDE_ROLES


def entry_to_correct(organisation: Organisation, solution: Solution) -> StatusChange | None:
    """The entry a correction replaces: the latest of the pair's history in its order (the
    one the current status comes from); None when nothing has been recorded."""
    return (
        StatusChange.objects.filter(organisation=organisation, solution=solution)
        .select_related("changed_by")
        .order_by("-effective_date", "-id")
        .first()
    )


def status_correct(
    *,
    user,
    organisation: Organisation,
    solution: Solution,
    to_status: str,
    reason: str,
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
    source: str = Source.UI,
) -> RolloutStatus:
    """Correct the status of one organisation for one solution to `to_status` (any status,
    whatever TRANSITIONS allow), holding from `effective_date` (default: the date of the
    entry corrected; not earlier, not in the future), with a required reason.

    Coordinators and administrators only, within their scope. Locks as status_change does
    (the organisation, then its status row); raises ValidationError (what to fix),
    VersionConflict (changed since `expected_version`), PermissionDenied (role) or
    Organisation.DoesNotExist (outside the scope). The coverage figures are recomputed
    from the corrected entry's date, by the path every status change takes."""
    scope = scoping.scope_for(user)
    if not (scope.can_edit and scope.role in OVERRIDE_ROLES):
        raise PermissionDenied(
            _(
                "Only a rollout coordinator can correct a status. If a status is wrong, "
                "ask your coordinator to correct it."
            )
        )
    changed_by = user if getattr(user, "pk", None) else None
    reason = (reason or "").strip()
    with transaction.atomic():
        organisation = (
            scope.filter_editable(Organisation.objects.select_related("type"))
            .select_for_update()
            .get(pk=organisation.pk)
        )
        row = current_status(organisation, solution, lock=True)
        if expected_version is not None:
            check_version(row, expected_version)
        wrong = entry_to_correct(organisation, solution)
        day = _check(row, wrong, to_status, reason, effective_date)
        entries = correction_entries(
            wrong, to_status, day, reason=reason, changed_by=changed_by, source=source
        )
        row.status, row.reason = to_status, reason
        row.effective_date = entries[-1].effective_date
        row.updated_by = changed_by
        row.version += 1
        row.full_clean(exclude=["organisation", "solution", "updated_by"], validate_unique=False)
        for entry in entries:
            entry.save()
        row.save()
        coverage_changed(since=wrong.effective_date)
    return row


def _check(row: RolloutStatus, wrong, to_status: str, reason: str, day) -> datetime.date:
    """Refuse a correction that cannot be made; return the date the status holds from."""
    if wrong is None:
        raise ValidationError(_("No status has been recorded yet, so there is nothing to correct."))
    if row.status != wrong.to_status:
        raise ValidationError(
            _(
                "The current status “%(current)s” does not match the history's latest entry "
                "(“%(history)s”). An administrator must repair the history on the integrity "
                "page first."
            )
            % {"current": Status(row.status).label, "history": Status(wrong.to_status).label}
        )
    errors: dict[str, list[str]] = {}
    day = day or wrong.effective_date
    if to_status not in Status.values:
        errors["to_status"] = [_("Unknown status “%(s)s”.") % {"s": to_status}]
    elif to_status == wrong.to_status and day == wrong.effective_date:
        errors["to_status"] = [
            _("The status is already “%(s)s” from %(d)s; choose another status or date.")
            % {"s": Status(to_status).label, "d": day.strftime("%d.%m.%Y")}
        ]
    if not reason:
        errors["reason"] = [_("Say why the status is corrected.")]
    if day > today():
        errors["effective_date"] = [_("The date cannot be in the future.")]
    elif day < wrong.effective_date:
        errors["effective_date"] = [
            _(
                "The corrected status can hold from %(d)s at the earliest, the date of the "
                "entry it corrects."
            )
            % {"d": wrong.effective_date.strftime("%d.%m.%Y")}
        ]
    if errors:
        raise ValidationError(errors)
    return day


def correction_entries(
    wrong: StatusChange, to_status: str, day: datetime.date, *, reason, changed_by, source
) -> list[StatusChange]:
    """The unsaved history entries that replace `wrong` by `to_status` from `day` (see
    the module's docstring)."""

    def entry(from_status, to, date):
        return StatusChange(
            organisation_id=wrong.organisation_id,
            solution_id=wrong.solution_id,
            from_status=from_status,
            to_status=to,
            reason=reason,
            effective_date=date,
            changed_by=changed_by,
            source=source,
            kind=StatusChangeKind.CORRECTION,
            corrects=wrong,
        )

    if day == wrong.effective_date:
        return [entry(wrong.to_status, to_status, day)]
    undo = entry(wrong.to_status, wrong.from_status, wrong.effective_date)
    if to_status == wrong.from_status:
        return [undo]
    return [undo, entry(wrong.from_status, to_status, day)]


def with_corrections(history):
    """A history queryset whose entries know their corrections (`corrections.all`, the
    first is shown as “rettet … av …”) and the entry they correct (`corrects`): two
    queries, whatever the number of entries."""
    corrections = StatusChange.objects.select_related("changed_by").order_by("changed_at", "id")
    return history.select_related("corrects").prefetch_related(
        Prefetch("corrections", queryset=corrections)
    )


def first_correction_id():
    """An annotation: the id of the first correction of each entry (None: not corrected).
    Ordered by (corrects, id), which only the index on `corrects` serves: ordered by id
    alone, PostgreSQL may walk the whole history by primary key looking for a match
    (seen at 10x before the new column had statistics: minutes per page)."""
    return Subquery(
        StatusChange.objects.filter(corrects=OuterRef("pk"))
        .order_by("corrects", "id")
        .values("pk")[:1]
    )


def pair_history(organisation: Organisation, solution: Solution):
    """The history of one organisation for one solution, newest first, with corrections."""
    return with_corrections(
        StatusChange.objects.filter(organisation=organisation, solution=solution).select_related(
            "changed_by"
        )
    )


def status_page_context(user, organisation: Organisation, solution: Solution) -> dict:
    """What the status form and the correction page show besides their form: the pair's
    history and whether the user may correct it."""
    history = list(pair_history(organisation, solution))
    return {"history": history, "can_correct": bool(history) and may_correct(user)}


def standing(changes):
    """`changes` without the entries a correction replaced: for readers that pick entries
    one by one (e.g. the first day an organisation used a solution) instead of replaying
    the history, which needs no such filter."""
    return changes.filter(corrections__isnull=True)
