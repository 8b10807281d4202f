"""The integrity check: do the history and the current statuses tell the same story?

The status history is the record the coverage figures are summed from; the current status
rows are what users see and act on. Both are written together by the services, so they can
only disagree after something bypassed them (a raw UPDATE, a restore of one table, a bug).
Then the figures go wrong for good: the history's sums leave an organisation out that the
lists show, and a later change records its `from_status` from the drifted row, so the sums
can go below zero and the recomputation fails.

This module finds that, in a few set-based queries over the whole history (window functions
over each (organisation, solution)'s chain, in the history's order: effective date, then
id), whatever the size of the registry:

- `gap`: a change whose `from_status` is not the previous change's `to_status` (for the
  first change: not "not started", the state of a pair with no row);
- `drift`: the last change's `to_status` is not the current status;
- `no_history`: a current status other than "not started" with no history at all;
- `no_current`: a history whose last `to_status` is not "not started" but no current row
  (no row means "not started").

Higher layers register their own checks with `register` in their AppConfig.ready() (benefits
compares the stored coverage snapshots with a live count), so rollout never imports them.
A run is stored as an `IntegrityCheckRun`; administrators are e-mailed when it finds
anything. Repairs never rewrite the history: `rollout.services.status_history_repair` adds
corrections (see there for the rule).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from actors import scoping
from actors.choices import Role
from actors.models import Organisation, User

from .choices import Status
from .models import IntegrityCheckRun, RolloutStatus, Solution, StatusChange

log = logging.getLogger(__name__)

# A run keeps at most this many findings per check (the counts are always complete).
MAX_STORED_FINDINGS = 500

GAP, DRIFT, NO_HISTORY, NO_CURRENT, ERROR = "gap", "drift", "no_history", "no_current", "error"
HISTORY = "history"


@dataclass(frozen=True)
class Check:
    """One registered check. `find()` returns findings (JSON-serialisable dicts, each with
    a `key` that identifies what a repair would act on); `repair(findings, user=, reason=)`
    repairs those findings and returns how many things it wrote or asked for;
    `describe(finding)` says in plain language what is wrong."""

    name: str
    label: object
    find: Callable[[], list[dict]]
    repair: Callable[..., int]
    describe: Callable[[dict], str]


_CHECKS: dict[str, Check] = {}


def register(check: Check) -> None:
    """Add (or replace) a check; called from an AppConfig.ready()."""
    _CHECKS[check.name] = check


def checks() -> list[Check]:
    """The history chain first, then the others in the order registered."""
    return sorted(_CHECKS.values(), key=lambda c: c.name != HISTORY)


# --- the history chain ----------------------------------------------------------------


def _chain_sql() -> str:
    changes = StatusChange._meta.db_table
    statuses = RolloutStatus._meta.db_table
    organisations = Organisation._meta.db_table
    solutions = Solution._meta.db_table
    # One pass of window functions over the history; the CTE is read twice.
    return f"""
    WITH h AS (
        SELECT id, organisation_id, solution_id, effective_date, from_status, to_status,
               LAG(to_status) OVER w AS prev_to,
               LAG(effective_date) OVER w AS prev_date,
               LEAD(id) OVER w AS next_id
        FROM {changes}
        WINDOW w AS (PARTITION BY organisation_id, solution_id ORDER BY effective_date, id)
    ),
    f AS (
        SELECT 'gap' AS kind, organisation_id, solution_id, id AS entry_id,
               effective_date AS entry_date, COALESCE(prev_to, %(ns)s) AS history_status,
               from_status AS found_status, prev_date
        FROM h
        WHERE from_status <> COALESCE(prev_to, %(ns)s)
        UNION ALL
        SELECT CASE WHEN r.id IS NULL THEN 'no_current' ELSE 'drift' END,
               h.organisation_id, h.solution_id, h.id, h.effective_date, h.to_status,
               COALESCE(r.status, %(ns)s), NULL
        FROM h
        LEFT JOIN {statuses} r
               ON r.organisation_id = h.organisation_id AND r.solution_id = h.solution_id
        WHERE h.next_id IS NULL AND h.to_status <> COALESCE(r.status, %(ns)s)
        UNION ALL
        SELECT 'no_history', r.organisation_id, r.solution_id, NULL, NULL, %(ns)s, r.status,
               NULL
        FROM {statuses} r
        WHERE r.status <> %(ns)s AND NOT EXISTS (
            SELECT 1 FROM {changes} c
            WHERE c.organisation_id = r.organisation_id AND c.solution_id = r.solution_id
        )
    )
    SELECT f.kind, f.organisation_id, o.name, f.solution_id, s.code, s.name, f.entry_id,
           f.entry_date, f.history_status, f.found_status, f.prev_date
    FROM f
    JOIN {organisations} o ON o.id = f.organisation_id
    JOIN {solutions} s ON s.id = f.solution_id
    ORDER BY o.name, f.organisation_id, s.sort_order, f.solution_id, f.entry_date, f.entry_id
    """


def _day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns dates from raw SQL as text
        return value[:10]
    return value.isoformat()


def history_findings() -> list[dict]:
    """Every break between the history and the current statuses: one query."""
    with connection.cursor() as cursor:
        cursor.execute(_chain_sql(), {"ns": Status.NOT_STARTED})
        rows = cursor.fetchall()
    findings = []
    for kind, org_id, org, sol_id, code, sol, entry_id, day, history, found, prev in rows:
        findings.append(
            {
                "check": HISTORY,
                "key": f"{HISTORY}:{org_id}:{sol_id}",
                "kind": kind,
                "organisation_id": org_id,
                "organisation": org,
                "solution_id": sol_id,
                "solution_code": code,
                "solution": sol,
                "entry_id": entry_id,
                "entry_date": _day(day),
                "previous_date": _day(prev),
                "history_status": history,
                "current_status": found,
            }
        )
    return findings


def _status_label(code: str | None) -> str:
    try:
        return str(Status(code).label)
    except ValueError:
        return code or "–"


def _date(iso: str | None) -> str:
    return datetime.date.fromisoformat(iso).strftime("%d.%m.%Y") if iso else ""


def describe_history(f: dict) -> str:
    values = {
        "org": f["organisation"],
        "solution": f["solution"],
        "history": _status_label(f["history_status"]),
        "current": _status_label(f["current_status"]),
        "date": _date(f.get("entry_date")),
    }
    if f["kind"] == GAP:
        if f.get("previous_date"):
            return (
                _(
                    "The history breaks: the previous change left the status “%(history)s”, "
                    "but the change dated %(date)s starts from “%(current)s”. A change from "
                    "“%(history)s” to “%(current)s” was never recorded."
                )
                % values
            )
        return (
            _(
                "The history breaks: its first change, dated %(date)s, starts from "
                "“%(current)s”, but before it the status was “%(history)s”."
            )
            % values
        )
    if f["kind"] == DRIFT:
        return (
            _(
                "The history says “%(history)s” (last change dated %(date)s); the current "
                "status says “%(current)s”. The figures, summed from the history, do not count "
                "what users see."
            )
            % values
        )
    if f["kind"] == NO_HISTORY:
        return (
            _("The current status says “%(current)s”, but the history has no change at all.")
            % values
        )
    if f["kind"] == NO_CURRENT:
        return (
            _(
                "The history says “%(history)s” (last change dated %(date)s), but there is no "
                "current status, so users see “%(current)s”."
            )
            % values
        )
    return f.get("message", "")


def repair_history(findings: list[dict], *, user, reason: str) -> int:
    from .services import status_history_repair

    pairs = sorted({(f["organisation_id"], f["solution_id"]) for f in findings})
    return status_history_repair(user=user, pairs=pairs, reason=reason).written


register(
    Check(
        name=HISTORY,
        label=gettext_lazy("Status history and current statuses"),
        find=history_findings,
        repair=repair_history,
        describe=describe_history,
    )
)


# --- runs -----------------------------------------------------------------------------


def describe(finding: dict) -> str:
    check = _CHECKS.get(finding.get("check"))
    if finding.get("kind") == ERROR or check is None:
        return _("The check could not run: %(e)s") % {"e": finding.get("message", "")}
    return check.describe(finding)


def _find_all(names: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """Each check on its own: one that fails is reported as a finding, the others run."""
    found: dict[str, list[dict]] = {}
    for check in checks():
        if names is not None and check.name not in names:
            continue
        try:
            found[check.name] = check.find()
        except Exception as exc:  # one failing check never stops the others
            log.exception("integrity check %s failed", check.name)
            found[check.name] = [
                {"check": check.name, "key": f"{check.name}:error", "kind": ERROR,
                 "message": f"{type(exc).__name__}: {exc}"[:500]}
            ]  # fmt: skip
    return found


def run_check(*, trigger: str, user=None, notify: bool = True) -> IntegrityCheckRun:
    """Run every check, store the run and, when it found anything, e-mail the
    administrators."""
    run = IntegrityCheckRun.objects.create(
        trigger=trigger, started_by=user if getattr(user, "pk", None) else None
    )
    found = _find_all()
    counts: dict[str, int] = {}
    stored: list[dict] = []
    truncated = False
    for findings in found.values():
        for f in findings:
            name = f"{f['check']}.{f['kind']}"
            counts[name] = counts.get(name, 0) + 1
        stored += findings[:MAX_STORED_FINDINGS]
        truncated |= len(findings) > MAX_STORED_FINDINGS
    run.findings, run.counts, run.truncated = stored, counts, truncated
    run.finding_count = sum(counts.values())
    run.finished_at = timezone.now()
    if notify and run.finding_count:
        run.notified = _notify_administrators(run)
    run.save()
    return run


def administrators():
    return User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email="")


def _notify_administrators(run: IntegrityCheckRun) -> int:
    recipients = list(administrators().values_list("email", flat=True))
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "Integrity check: %(n)s finding", "Integrity check: %(n)s findings", run.finding_count
        ) % {"n": run.finding_count}
        lines = [
            _(
                "The integrity check of %(when)s found that the status history and the "
                "current statuses (or the stored figures) disagree:"
            )
            % {"when": timezone.localtime(run.started_at).strftime("%d.%m.%Y %H:%M")},
            "",
        ]
        shown = run.findings[:20]
        for f in shown:
            where = ", ".join(x for x in (f.get("organisation"), f.get("solution")) if x)
            where = where or f.get("target", "")
            lines.append(f"- {where}: {describe(f)}")
        if run.finding_count > len(shown):
            lines.append(_("… and %(n)s more.") % {"n": run.finding_count - len(shown)})
        base = getattr(settings, "SITE_URL", "").rstrip("/")
        lines += [
            "",
            _("Findings and repair: %(url)s") % {"url": base + reverse("rollout:integrity")},
        ]
    body = "\n".join(lines)
    transaction.on_commit(
        lambda: send_mail(
            subject=subject,
            message=body,
            from_email=None,
            recipient_list=recipients,
            fail_silently=True,
        )
    )
    return len(recipients)


def can_view(user) -> bool:
    """Administrators, and national coordinators (read-only)."""
    scope = scoping.scope_for(user)
    return scope.role == Role.ADMIN or (scope.role == Role.COORDINATOR and scope.edits_all)


def can_repair(user) -> bool:
    return scoping.scope_for(user).role == Role.ADMIN


@dataclass
class RepairOutcome:
    repaired: int
    run: IntegrityCheckRun


def repair_findings(*, user, reason: str, keys: Iterable[str] | None = None) -> RepairOutcome:
    """Repair what a fresh check finds now (all of it, or the findings with these keys),
    each check with its own repair, then check again and store that run. Stored findings
    are never trusted: what was found an hour ago may have been repaired since."""
    if not can_repair(user):
        raise PermissionDenied(_("Only administrators can repair the history."))
    reason = (reason or "").strip()
    if not reason:
        from django.core.exceptions import ValidationError

        raise ValidationError({"reason": _("Say why the history is corrected.")})
    keys = set(keys) if keys is not None else None
    repaired = 0
    for name, findings in _find_all().items():
        wanted = [f for f in findings if f["kind"] != ERROR and (keys is None or f["key"] in keys)]
        if wanted:
            repaired += _CHECKS[name].repair(wanted, user=user, reason=reason)
    run = run_check(trigger=IntegrityCheckRun.Trigger.REPAIR, user=user, notify=False)
    run.repaired = repaired
    run.save(update_fields=["repaired"])
    return RepairOutcome(repaired, run)
