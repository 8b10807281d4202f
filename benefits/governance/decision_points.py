"""Evaluation and decision points: the programme's schedule of them, the points it
plans, and a point's details until it is closed."""

from __future__ import annotations

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actors.concurrency import check_version
from rollout.choices import CADENCE_MONTHS, ChangeKind, DecisionPointStatus
from rollout.models import DecisionPoint, GovernanceSchedule

from .access import require_govern, user_or_none
from .changelog import changelog_record


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later; the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def schedule_for(programme: str | None = None) -> GovernanceSchedule | None:
    qs = GovernanceSchedule.objects.all()
    if programme:
        qs = qs.filter(programme=programme)
    return qs.order_by("pk").first()


def schedule_save(
    *, user, schedule: GovernanceSchedule, cadence: str, first_date, expected_version
) -> GovernanceSchedule:
    require_govern(user)
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
    require_govern(user)
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
    require_govern(user)
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
    require_govern(user)
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
        point.decided_by = user_or_none(user)
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
