"""Evaluation and decision points, decisions, the change log and the cut list: services
(every write) and selectors (the brief, the what-if), used alike by the UI and the API.

Who may do what (one place, `can_govern`):
- The directorate owns the programme: it prepares briefs, records decisions and closes
  decision points, keeps the change log and the cut list. National coordinators and
  administrators may do the same.
- Area coordinators and municipality contacts read the points, the change log and the cut
  list (programme documents, like the national target figures), but change nothing here.
  The parts of a brief that name places or free-text reasons beyond their reach (the
  assumptions per area and the blocking reasons) are shown only to those who see
  everything (`brief_for`).
- Users without a role see nothing.

Decisions that start or stop an area of an area-wise solution (PLL) change the area's
rollout record through `rollout.services.area_rollout_update`, so the phase history is
written as for any other change. That service is for rollout coordinators; the
directorate edits nothing operational by itself, but a decision of the programme board
recorded by the directorate is the authority for the change. So when the deciding user
may not change the area, the service is called as `SYSTEM_USER`, while the decision and
its change-log entry record the real user (`decided_by`, `recorded_by`), and the area's
decision note names the decision point. Area coordinators never reach this code.

Every decision and every change of scope, target or threshold goes into the change log
through `changelog_record` (append-only: the database refuses UPDATE and DELETE).
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actors import scoping
from actors.choices import Role
from actors.concurrency import check_version
from actors.models import Catchment, HealthTrust, Organisation
from rollout.choices import (
    CADENCE_MONTHS,
    ChangeKind,
    CutStatus,
    DecisionKind,
    DecisionPointStatus,
    Phase,
)
from rollout.models import (
    AreaRollout,
    ChangeLogEntry,
    CutListItem,
    Decision,
    DecisionPoint,
    GovernanceSchedule,
    Solution,
)

AREA_KINDS = (DecisionKind.START_AREA, DecisionKind.STOP_AREA)
CHANGE_KIND_OF = {
    DecisionKind.START_AREA: ChangeKind.DECISION,
    DecisionKind.STOP_AREA: ChangeKind.DECISION,
    DecisionKind.SCOPE: ChangeKind.SCOPE,
    DecisionKind.TARGET: ChangeKind.TARGET,
    DecisionKind.OTHER: ChangeKind.DECISION,
}


# --- who may do what --------------------------------------------------------------------


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


def _require_govern(user) -> None:
    if not can_govern(user):
        raise PermissionDenied(str(GOVERN_MESSAGE))


def _user_or_none(user):
    return user if getattr(user, "pk", None) else None


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


# --- change log -------------------------------------------------------------------------


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
        recorded_by=_user_or_none(user),
    )
    entry.full_clean(exclude=["decision_point", "decision", "recorded_by"])
    entry.save()
    return entry


def changelog_entry_create(*, user, **fields) -> ChangeLogEntry:
    """A change recorded by hand in the change log (UI, API): governors only."""
    _require_govern(user)
    with transaction.atomic():
        return changelog_record(user=user, **fields)


# --- schedule and points ----------------------------------------------------------------


def schedule_for(programme: str | None = None) -> GovernanceSchedule | None:
    qs = GovernanceSchedule.objects.all()
    if programme:
        qs = qs.filter(programme=programme)
    return qs.order_by("pk").first()


def schedule_save(
    *, user, schedule: GovernanceSchedule, cadence: str, first_date, expected_version
) -> GovernanceSchedule:
    _require_govern(user)
    with transaction.atomic():
        schedule = GovernanceSchedule.objects.select_for_update().get(pk=schedule.pk)
        check_version(schedule, expected_version)
        before = schedule.get_cadence_display()
        schedule.cadence, schedule.first_date = cadence, first_date
        schedule.version += 1
        schedule.full_clean()
        schedule.save()
        changelog_record(
            user=user,
            kind=ChangeKind.SCOPE,
            title=_("Decision-point schedule: %(c)s from %(d)s")
            % {"c": schedule.get_cadence_display(), "d": first_date.strftime("%d.%m.%Y")},
            reason=_("Previously: %(c)s.") % {"c": before},
            subject=schedule.programme,
        )
    return schedule


def scheduled_dates(schedule: GovernanceSchedule, until: datetime.date) -> list[datetime.date]:
    """The schedule's dates from its first date up to and including `until`."""
    months = CADENCE_MONTHS[schedule.cadence]
    dates, n = [], 0
    while True:
        day = add_months(schedule.first_date, months * n)
        if day > until:
            return dates
        dates.append(day)
        n += 1


# How far ahead the schedule's points may be created in one go.
GENERATE_YEARS = 5


def points_generate(
    *, user, schedule: GovernanceSchedule, until: datetime.date | None = None
) -> list[DecisionPoint]:
    """Create the planned points of the schedule up to `until` (by default a year from
    today, at most GENERATE_YEARS ahead) that do not exist yet. Idempotent: a date that
    has a point is skipped."""
    _require_govern(user)
    today = timezone.localdate()
    until = until or add_months(today, 12)
    if until > add_months(today, 12 * GENERATE_YEARS):
        raise ValidationError(
            {
                "until": _("Plan at most %(n)s years ahead: give a date before %(d)s.")
                % {"n": GENERATE_YEARS, "d": add_months(today, 12 * GENERATE_YEARS)}
            }
        )
    with transaction.atomic():
        GovernanceSchedule.objects.select_for_update().get(pk=schedule.pk)
        existing = set(
            DecisionPoint.objects.filter(programme=schedule.programme).values_list(
                "scheduled_for", flat=True
            )
        )
        created = []
        for day in scheduled_dates(schedule, until):
            if day in existing:
                continue
            point = DecisionPoint(
                programme=schedule.programme,
                title=_("Evaluation and decision point %(d)s") % {"d": day.strftime("%d.%m.%Y")},
                scheduled_for=day,
            )
            point.full_clean(exclude=["decided_by"])
            point.save()
            created.append(point)
    return created


def point_save(*, user, point_id: int | None, expected_version, fields: dict) -> DecisionPoint:
    """Create a decision point (outside the schedule) or change its title, date, summary
    and scope until the next point."""
    _require_govern(user)
    allowed = {"title", "scheduled_for", "summary", "scope_until_next"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        if point_id is None:
            point = DecisionPoint()
        else:
            point = DecisionPoint.objects.select_for_update().get(pk=point_id)
            check_version(point, expected_version)
            point.version += 1
        for name, value in fields.items():
            setattr(point, name, value)
        point.full_clean(exclude=["decided_by"])
        point.save()
    return point


def point_close(
    *,
    user,
    point: DecisionPoint,
    held_on: datetime.date,
    summary: str,
    scope_until_next: str,
    expected_version,
) -> DecisionPoint:
    """Mark a point as decided: when it was held, what was concluded and the scope until
    the next point (written to the change log as a change of scope)."""
    _require_govern(user)
    with transaction.atomic():
        point = DecisionPoint.objects.select_for_update().get(pk=point.pk)
        check_version(point, expected_version)
        if point.status == DecisionPointStatus.DECIDED:
            raise ValidationError(_("This decision point is already closed."))
        if held_on is None:
            raise ValidationError({"held_on": _("Give the date the point was held.")})
        if held_on > timezone.localdate():
            raise ValidationError({"held_on": _("The date cannot be in the future.")})
        point.held_on, point.summary = held_on, summary.strip()
        point.scope_until_next = scope_until_next.strip()
        point.status = DecisionPointStatus.DECIDED
        point.decided_by = _user_or_none(user)
        point.version += 1
        point.full_clean(exclude=["decided_by"])
        point.save()
        if point.scope_until_next:
            changelog_record(
                user=user,
                kind=ChangeKind.SCOPE,
                title=_("Scope until the next point: %(t)s") % {"t": point.title},
                reason=point.scope_until_next,
                subject=point.programme,
                decision_point=point,
            )
    return point


# --- decisions --------------------------------------------------------------------------


def _area_phase_on_start(solution: Solution) -> str:
    """An area starts in limited rollout until the solution is in national rollout."""
    if solution.national_phase == Phase.NATIONAL_ROLLOUT:
        return Phase.NATIONAL_ROLLOUT
    return Phase.LIMITED_ROLLOUT


def _apply_to_area(user, decision: Decision, point: DecisionPoint, reference: str) -> None:
    """Start or stop the decision's area through the rollout service (see the module's
    docstring for why the directorate's decisions go through as SYSTEM_USER)."""
    from rollout import services as rollout_services

    solution, trust = decision.solution, decision.health_trust
    scope = scoping.scope_for(user)
    actor = user if scope.can_edit and scope.edits_all else scoping.SYSTEM_USER
    area = rollout_services.area_rollout_for(solution, trust)
    note = _("%(kind)s – %(point)s (%(by)s): %(text)s") % {
        "kind": decision.get_kind_display(),
        "point": point.title,
        "by": str(user),
        "text": decision.text,
    }
    fields = {
        "decision_date": decision.effective_date,
        "decision_reference": reference[:100],
        "decision_note": note,
    }
    if decision.kind == DecisionKind.START_AREA:
        fields["phase"] = _area_phase_on_start(solution)
        fields["actual_start"] = decision.effective_date
    else:
        # Stopped: back to planning; the start date stays as history of what happened.
        fields["phase"] = Phase.PLANNING
    rollout_services.area_rollout_update(
        user=actor,
        solution=solution,
        health_trust=trust,
        expected_version=area.version,
        **fields,
    )


def decision_record(
    *,
    user,
    point: DecisionPoint,
    kind: str,
    text: str,
    reason: str = "",
    cost_benefit_note: str = "",
    solution: Solution | None = None,
    health_trust: HealthTrust | None = None,
    effective_date: datetime.date | None = None,
) -> Decision:
    """Record a decision at a point and write it to the change log. Starting or stopping
    an area (area-wise solutions only) updates the area's rollout record with history, in
    the same transaction: if the area refuses the change, nothing is recorded."""
    _require_govern(user)
    errors: dict[str, list[str]] = {}
    if kind not in DecisionKind.values:
        errors["kind"] = [_("Unknown kind of decision.")]
    if not text.strip():
        errors["text"] = [_("Write the decision.")]
    if kind in AREA_KINDS:
        if solution is None or not solution.area_wise:
            errors["solution"] = [_("Choose a solution that is rolled out area by area.")]
        if health_trust is None:
            errors["health_trust"] = [_("Choose the area.")]
        if effective_date is None:
            errors["effective_date"] = [_("Give the date the decision takes effect.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        point = DecisionPoint.objects.select_for_update().get(pk=point.pk)
        if point.status == DecisionPointStatus.DECIDED:
            raise ValidationError(_("This decision point is closed; record it at a later one."))
        decision = Decision(
            decision_point=point,
            kind=kind,
            text=text.strip(),
            reason=reason.strip(),
            cost_benefit_note=cost_benefit_note.strip(),
            solution=solution,
            health_trust=health_trust,
            effective_date=effective_date,
            decided_by=user,
        )
        decision.full_clean(exclude=["decision_point", "decided_by", "solution", "health_trust"])
        decision.save()
        if kind in AREA_KINDS:
            _apply_to_area(user, decision, point, reference=point.title)
        where = " – ".join(
            x
            for x in (
                solution.short_name if solution else "",
                health_trust.name if health_trust else "",
            )
            if x
        )
        changelog_record(
            user=user,
            kind=CHANGE_KIND_OF[kind],
            title=f"{decision.get_kind_display()}: {where or decision.text[:200]}",
            reason=decision.reason or decision.text,
            cost_benefit_note=decision.cost_benefit_note,
            subject=where,
            decision_point=point,
            decision=decision,
        )
    return decision


# --- brief ------------------------------------------------------------------------------


def _period(point: DecisionPoint) -> tuple[datetime.date, datetime.date]:
    """(since, next): since the previous point (held or scheduled), until the next one
    (scheduled, or one cadence after this one)."""
    schedule = schedule_for(point.programme)
    months = CADENCE_MONTHS[schedule.cadence] if schedule else 3
    others = DecisionPoint.objects.filter(programme=point.programme).exclude(pk=point.pk)
    previous = (
        others.filter(scheduled_for__lt=point.scheduled_for).order_by("-scheduled_for").first()
    )
    following = (
        others.filter(scheduled_for__gt=point.scheduled_for).order_by("scheduled_for").first()
    )
    since = (previous.held_on or previous.scheduled_for) if previous else None
    since = since or add_months(point.scheduled_for, -months)
    until = following.scheduled_for if following else add_months(point.scheduled_for, months)
    return since, until


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def _number(value) -> float | None:
    return None if value is None else float(value)


def _benefits_section(since: datetime.date) -> list[dict]:
    from benefits.choices import MeasurementKind, ReportStatus
    from benefits.models import Benefit, BenefitReport
    from benefits.selectors import benefit_summary

    rows = []
    for benefit in Benefit.objects.prefetch_related("solutions"):
        summary = benefit_summary(benefit, scoping.SYSTEM_USER)
        new = BenefitReport.objects.filter(
            benefit=benefit,
            status=ReportStatus.APPROVED,
            period_end__gte=since,
        ).exclude(kind=MeasurementKind.BASELINE)
        rows.append(
            {
                "benefit": benefit.name,
                "unit": benefit.unit,
                "direction": benefit.direction,
                "realisations": len(summary.realisations),
                # As the unit allows (benefits.selectors.BenefitSummary): no sum of shares.
                "aggregation": summary.kind,
                "change_unit": summary.change_unit,
                "mean_improvement": _number(summary.mean_improvement),
                "median_improvement": _number(summary.median_improvement),
                "total_improvement": _number(summary.total_improvement),
                "reported": summary.reported,
                "expected": summary.expected,
                "new_follow_ups": new.count(),
            }
        )
    return rows


def _targets_section(since: datetime.date) -> list[dict]:
    from benefits import coverage
    from benefits.choices import Level
    from benefits.models import CoverageTarget

    targets = list(CoverageTarget.objects.filter(is_active=True).select_related("solution"))
    nation = coverage.ScopeRef(Level.NATION, 0, "nation", _("Norway"))
    rows = []
    for status in coverage.target_statuses(targets, nation):
        before = [(d, n, den) for d, n, den in status.series if d <= since]
        then = before[-1][1] / before[-1][2] if before and before[-1][2] else None
        latest = status.latest
        fc = status.forecast
        rows.append(
            {
                "code": status.target.code,
                "target": status.target.name,
                "solution": status.target.solution.short_name,
                "threshold": float(status.target.threshold),
                "deadline": _iso(status.target.deadline),
                "day": _iso(latest[0]) if latest else None,
                "numerator": latest[1] if latest else None,
                "denominator": latest[2] if latest else None,
                "ratio": status.ratio,
                "ratio_at_last_point": then,
                "gap": status.gap,
                "verdict": fc.verdict if fc else None,
                "verdict_label": str(fc.verdict_label) if fc else "",
                "tone": fc.tone if fc else "unknown",
                "projected": _iso(fc.projected) if fc else None,
            }
        )
    return rows


def _assumptions_section(until: datetime.date) -> list[dict]:
    """Areas planned to start before the next point that do not yet meet the conditions
    to start (rollout.selectors.area_readiness)."""
    from rollout.selectors import area_readiness

    rows = []
    planned = (
        AreaRollout.objects.filter(
            solution__area_wise=True, phase=Phase.PLANNING, planned_start__lte=until
        )
        .select_related("solution", "health_trust")
        .order_by("planned_start", "health_trust__name")
    )
    for area in planned:
        readiness = area_readiness(area.solution, area.health_trust, scoping.SYSTEM_USER)
        failing = [
            {
                "condition": c.name,
                "label": c.shortfall,
                "detail": c.detail,
            }
            for c in readiness.conditions
            if not c.passed
        ]
        if failing:
            rows.append(
                {
                    "solution": area.solution.short_name,
                    "area": area.health_trust.name,
                    "area_code": area.health_trust.code,
                    "planned_start": _iso(area.planned_start),
                    "failing": failing,
                }
            )
    return rows


def _blockers_section() -> list[dict]:
    from benefits.reports import blocking_reasons

    table = blocking_reasons(Organisation.objects.filter(is_active=True))
    return [{"solution": s, "reason": r, "organisations": n} for s, r, n in table.rows]


def _areas_started_section(since: datetime.date, until: datetime.date) -> list[dict]:
    rows = AreaRollout.objects.filter(actual_start__gt=since, actual_start__lte=until)
    return [
        {
            "solution": a.solution.short_name,
            "area": a.health_trust.name,
            "started": _iso(a.actual_start),
            "phase": str(a.get_phase_display()),
        }
        for a in rows.select_related("solution", "health_trust").order_by("actual_start")
    ]


def brief_build(point: DecisionPoint, today: datetime.date | None = None) -> dict:
    """The brief for a point, from the data as it is now (national figures):
    - period: since the previous point, until the next one;
    - benefits: realised benefits (latest approved follow-up against baseline), with how
      many follow-ups have come in since the previous point;
    - targets: the latest national ratio of each active target, the ratio at the previous
      point, the gap to the threshold and the forecast;
    - areas_started: areas started since the previous point;
    - assumptions: areas planned to start before the next point that fail a condition;
    - blockers: the most common blocking reasons;
    - cut_list: proposed cut-list items."""
    today = today or timezone.localdate()
    since, until = _period(point)
    return {
        "period": {"since": _iso(since), "point": _iso(point.scheduled_for), "next": _iso(until)},
        "benefits": _benefits_section(since),
        "targets": _targets_section(since),
        "areas_started": _areas_started_section(since, today),
        "assumptions": _assumptions_section(until),
        "blockers": _blockers_section(),
        "cut_list": [
            {
                "title": c.title,
                "solution": c.solution.short_name,
                "area": c.health_trust.name if c.health_trust else "",
            }
            for c in CutListItem.objects.filter(status=CutStatus.PROPOSED).select_related(
                "solution", "health_trust"
            )
        ],
    }


def brief_generate(*, user, point: DecisionPoint) -> DecisionPoint:
    """(Re)generate a point's brief. A closed point keeps the brief it was decided on."""
    _require_govern(user)
    with transaction.atomic():
        point = DecisionPoint.objects.select_for_update().get(pk=point.pk)
        if point.status == DecisionPointStatus.DECIDED:
            raise ValidationError(_("This decision point is closed; its brief is kept as it was."))
        point.brief = brief_build(point)
        point.brief_generated_at = timezone.now()
        point.status = DecisionPointStatus.PREPARED
        point.version += 1
        point.save()
    return point


LIMITED_SECTIONS = ("assumptions", "blockers")


def brief_for(user, point: DecisionPoint) -> dict:
    """The brief as the user may read it: the assumptions per area and the blocking
    reasons (free text from organisations anywhere) only for those who see everything."""
    brief = dict(point.brief or {})
    if not scoping.scope_for(user).sees_all:
        for key in LIMITED_SECTIONS:
            brief.pop(key, None)
    return brief


# --- cut list ---------------------------------------------------------------------------

CUT_FIELDS = (
    "title",
    "justification",
    "cost_consequence",
    "benefit_consequence",
    "solution",
    "health_trust",
)


def cut_item_save(*, user, item_id: int | None, expected_version, fields: dict) -> CutListItem:
    """Propose an item for the cut list, or change a proposed one. For an area-wise
    solution an item is a whole area (CutListItem.clean)."""
    _require_govern(user)
    unknown = set(fields) - set(CUT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        if item_id is None:
            item = CutListItem()
        else:
            item = CutListItem.objects.select_for_update().get(pk=item_id)
            check_version(item, expected_version)
            if item.status != CutStatus.PROPOSED:
                raise ValidationError(_("Only proposed items can be changed."))
            item.version += 1
        for name, value in fields.items():
            setattr(item, name, value)
        item.full_clean(exclude=["decision"])
        item.save()
        if item_id is None:
            changelog_record(
                user=user,
                kind=ChangeKind.CUT_LIST,
                title=_("Proposed for the cut list: %(t)s") % {"t": item.title},
                reason=item.justification,
                cost_benefit_note=_cost_benefit(item),
                subject=_item_subject(item),
            )
    return item


def _cost_benefit(item: CutListItem) -> str:
    parts = [item.cost_consequence.strip(), item.benefit_consequence.strip()]
    return "\n".join(p for p in parts if p)


def _item_subject(item: CutListItem) -> str:
    if item.health_trust_id:
        return f"{item.solution.short_name} – {item.health_trust.name}"
    return item.solution.short_name


def cut_item_decide(
    *,
    user,
    item: CutListItem,
    to_status: str,
    point: DecisionPoint,
    reason: str,
    effective_date: datetime.date | None,
    expected_version,
) -> CutListItem:
    """Cut or keep an item by a decision at a decision point. Cutting a whole area of an
    area-wise solution is a decision to stop the area (its rollout record goes back to
    planning, with history); other cuts are decisions on scope."""
    _require_govern(user)
    if to_status not in (CutStatus.CUT, CutStatus.KEPT):
        raise ValidationError({"status": _("Decide to cut or to keep the item.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    with transaction.atomic():
        # Lock the item's own row only (PostgreSQL cannot lock the nullable side of the
        # outer join to the area).
        item = (
            CutListItem.objects.select_for_update(of=("self",))
            .select_related("solution", "health_trust")
            .get(pk=item.pk)
        )
        check_version(item, expected_version)
        if item.status != CutStatus.PROPOSED:
            raise ValidationError(_("This item has been decided already."))
        stops_area = to_status == CutStatus.CUT and item.solution.area_wise
        verb = _("Cut") if to_status == CutStatus.CUT else _("Keep")
        decision = decision_record(
            user=user,
            point=point,
            kind=DecisionKind.STOP_AREA if stops_area else DecisionKind.SCOPE,
            text=f"{verb}: {item.title}",
            reason=reason,
            cost_benefit_note=_cost_benefit(item),
            solution=item.solution,
            health_trust=item.health_trust,
            effective_date=effective_date or (timezone.localdate() if stops_area else None),
        )
        item.status, item.decision = to_status, decision
        item.version += 1
        item.save()
        changelog_record(
            user=user,
            kind=ChangeKind.CUT_LIST,
            title=f"{CutStatus(to_status).label}: {item.title}",
            reason=reason,
            cost_benefit_note=_cost_benefit(item),
            subject=_item_subject(item),
            decision_point=point,
            decision=decision,
        )
    return item


# --- what-if ----------------------------------------------------------------------------


@dataclass
class WhatIfRow:
    target_code: str
    target_name: str
    solution: str
    threshold: Decimal
    day: datetime.date | None
    numerator: int
    denominator: int
    cut_numerator: int  # taken away from the numerator by the cut
    cut_denominator: int  # taken away from the denominator

    @property
    def ratio(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def numerator_after(self) -> int:
        return self.numerator - self.cut_numerator

    @property
    def denominator_after(self) -> int:
        return self.denominator - self.cut_denominator

    @property
    def ratio_after(self) -> float | None:
        den = self.denominator_after
        return self.numerator_after / den if den else None

    @property
    def meets_before(self) -> bool:
        return self.ratio is not None and self.ratio >= float(self.threshold)

    @property
    def meets_after(self) -> bool:
        return self.ratio_after is not None and self.ratio_after >= float(self.threshold)


@dataclass
class PopulationRow:
    solution: str
    areas: list[str]
    population_cut: int
    population_total: int

    @property
    def share_cut(self) -> float:
        return self.population_cut / self.population_total if self.population_total else 0.0


@dataclass
class WhatIf:
    items: list[CutListItem]
    targets: list[WhatIfRow] = field(default_factory=list)
    population: list[PopulationRow] = field(default_factory=list)
    unquantified: list[CutListItem] = field(default_factory=list)


def what_if(items) -> WhatIf:
    """The active targets' latest national ratios now and if the items' areas were cut,
    and the share of the population in the cut areas.

    Arithmetic, per solution, with the areas A of its items (items without an area cannot
    be counted and are listed as `unquantified`):
    - Every figure is from the latest day with a national snapshot of the target; the
      area and municipality snapshots of that same day are used.
    - Organisation targets: an organisation counts in exactly one area, so the cut takes
      away the sum of the area snapshots of A from the numerator and the denominator.
    - Municipality targets: a municipality counts in every area its catchment belongs to
      (Oslo in two), so the area sums would count it twice. The cut takes away the
      municipality snapshots of the municipalities whose catchment lies wholly in A; a
      municipality with part of its catchment in an area that is not cut (Oslo, when only
      one of its trusts is cut) stays, since the rollout still reaches it.
    - Population: the catchment population of A (Catchment.population, so Oslo's shares
      are split exactly) over the total catchment population.
    Targets of solutions without items are not shown: a cut does not change them."""
    from benefits.choices import Level, TargetUnit
    from benefits.models import CoverageSnapshot, CoverageTarget

    items = list(items)
    result = WhatIf(items=items)
    areas_by_solution: dict[int, set[int]] = defaultdict(set)
    solutions: dict[int, Solution] = {}
    for item in items:
        if item.health_trust_id is None:
            result.unquantified.append(item)
            continue
        areas_by_solution[item.solution_id].add(item.health_trust_id)
        solutions[item.solution_id] = item.solution
    if not areas_by_solution:
        return result
    catchments = list(
        Catchment.objects.values_list("municipality_id", "health_trust_id", "population")
    )
    trusts_of: dict[int, set[int]] = defaultdict(set)
    for m, t, _p in catchments:
        trusts_of[m].add(t)
    total_population = sum(p for _m, _t, p in catchments)
    trust_names = dict(HealthTrust.objects.values_list("pk", "name"))
    targets = CoverageTarget.objects.filter(is_active=True, solution_id__in=areas_by_solution)
    for target in targets.select_related("solution").order_by("sort_order", "deadline", "name"):
        cut_areas = areas_by_solution[target.solution_id]
        snapshots = CoverageSnapshot.objects.filter(target=target)
        day = snapshots.filter(level=Level.NATION).aggregate(day=Max("day"))["day"]
        row = WhatIfRow(
            target.code, target.name, target.solution.short_name, target.threshold, day, 0, 0, 0, 0
        )
        if day is not None:
            on_day = snapshots.filter(day=day)
            nation = on_day.filter(level=Level.NATION).first()
            row.numerator, row.denominator = nation.numerator, nation.denominator
            if target.unit == TargetUnit.ORGANISATIONS:
                cut = on_day.filter(level=Level.AREA, scope_id__in=cut_areas)
            else:
                wholly = [m for m, trusts in trusts_of.items() if trusts and trusts <= cut_areas]
                cut = on_day.filter(level=Level.MUNICIPALITY, scope_id__in=wholly)
            sums = cut.aggregate(n=Sum("numerator"), d=Sum("denominator"))
            row.cut_numerator, row.cut_denominator = sums["n"] or 0, sums["d"] or 0
        result.targets.append(row)
    for solution_id, cut_areas in areas_by_solution.items():
        result.population.append(
            PopulationRow(
                solutions[solution_id].short_name,
                sorted(trust_names[t] for t in cut_areas),
                sum(p for _m, t, p in catchments if t in cut_areas),
                total_population,
            )
        )
    return result


def what_if_items(user, ids=None):
    """The items a what-if is for: the given ids, or by default every proposed item."""
    qs = (
        CutListItem.objects.select_related("solution", "health_trust")
        if can_read(user)
        else CutListItem.objects.none()
    )
    if ids:
        return qs.filter(pk__in=ids)
    return qs.filter(status=CutStatus.PROPOSED)
