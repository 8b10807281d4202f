"""The brief of a decision point: built from the data as it is now (benefits, targets,
areas started, failing assumptions, blocking reasons, proposed cuts), and read by role."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import scoping
from actors.models import Organisation
from rollout.choices import CADENCE_MONTHS, CutStatus, DecisionPointStatus, Phase
from rollout.models import AreaRollout, CutListItem, DecisionPoint

from .access import require_govern
from .decision_points import add_months, schedule_for


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
    require_govern(user)
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
