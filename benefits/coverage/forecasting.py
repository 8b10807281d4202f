"""Forecasting a coverage target: the pace fitted over the snapshots, the projected date the
threshold is reached, and a verdict against the deadline."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from ..choices import Verdict

FIT_WINDOW_DAYS = 365  # the pace is fitted over the last twelve months
MIN_POINTS = 3  # fewer snapshots than this in the window: too little history
MIN_SPAN_DAYS = 90  # and they must span at least three months
RISK_MARGIN_DAYS = 183  # projected within half a year after the deadline: at risk
HORIZON_YEARS = 10  # a projection further out than this is not a date worth showing


VERDICT_TONE = {
    Verdict.REACHED: "ok",
    Verdict.ON_TRACK: "ok",
    Verdict.AT_RISK: "warn",
    Verdict.OFF_TRACK: "bad",
    Verdict.UNKNOWN: "unknown",
}


@dataclass
class Forecast:
    verdict: str
    current: float | None
    threshold: float
    deadline: datetime.date
    pace_per_month: float | None = None  # share points per 30 days, from the fit
    needed_per_month: float | None = None  # share points per 30 days to make the deadline
    projected: datetime.date | None = None
    points: int = 0
    message: str = ""

    @property
    def verdict_label(self) -> str:
        return Verdict(self.verdict).label

    @property
    def tone(self) -> str:
        """ok / warn / bad / unknown, for colours."""
        return VERDICT_TONE[self.verdict]


def forecast(
    series: list[tuple[datetime.date, float]],
    threshold: float,
    deadline: datetime.date,
) -> Forecast:
    """The projected date the threshold is reached at the current pace, and a verdict.

    Pace: the slope of a linear least-squares fit of the ratio over the last snapshot of
    each month (so daily and monthly snapshots weigh alike) in the FIT_WINDOW_DAYS before
    the latest one. Projected date: latest day + (threshold −
    latest ratio) / pace. Verdict: reached when the latest ratio is at or above the
    threshold; on track when the projected date is on or before the deadline; at risk when
    it is within RISK_MARGIN_DAYS after it; otherwise (or without progress, or with the
    deadline passed) not on track. With fewer than MIN_POINTS snapshots spanning
    MIN_SPAN_DAYS it says so instead of inventing a date.
    """
    series = last_of_each_month(series)
    if not series:
        return Forecast(Verdict.UNKNOWN, None, threshold, deadline, message=_("Not computed yet."))
    latest_day, current = series[-1]
    result = Forecast(Verdict.UNKNOWN, current, threshold, deadline)
    remaining_days = (deadline - latest_day).days
    if remaining_days > 0 and current < threshold:
        result.needed_per_month = (threshold - current) / remaining_days * 30
    if current >= threshold:
        result.verdict = Verdict.REACHED
        result.message = _("The threshold is reached.")
        return result
    window = [(d, r) for d, r in series if (latest_day - d).days <= FIT_WINDOW_DAYS]
    result.points = len(window)
    span = (latest_day - window[0][0]).days
    if len(window) < MIN_POINTS or span < MIN_SPAN_DAYS:
        result.message = _(
            "Too little history for a forecast: %(n)s snapshots over %(d)s days; it needs "
            "%(min)s over at least %(span)s days."
        ) % {"n": len(window), "d": span, "min": MIN_POINTS, "span": MIN_SPAN_DAYS}
        if remaining_days < 0:
            result.verdict = Verdict.OFF_TRACK
        return result
    slope = _slope([((d - latest_day).days, r) for d, r in window])
    result.pace_per_month = slope * 30
    if remaining_days < 0:
        result.verdict = Verdict.OFF_TRACK
        result.message = _("The deadline has passed without the threshold being reached.")
        return result
    if slope <= 0:
        result.verdict = Verdict.OFF_TRACK
        result.message = _("No progress over the last twelve months: no date can be projected.")
        return result
    days_needed = (threshold - current) / slope
    if days_needed > HORIZON_YEARS * 365:
        result.verdict = Verdict.OFF_TRACK
        result.message = _(
            "At the current pace the threshold is not reached within %(n)s years."
        ) % {"n": HORIZON_YEARS}
        return result
    result.projected = latest_day + datetime.timedelta(days=round(days_needed))
    late = (result.projected - deadline).days
    if late <= 0:
        result.verdict = Verdict.ON_TRACK
    elif late <= RISK_MARGIN_DAYS:
        result.verdict = Verdict.AT_RISK
    else:
        result.verdict = Verdict.OFF_TRACK
    return result


def last_of_each_month(series):
    """The last point of each month, oldest first (points are tuples starting with a day)."""
    by_month = {}
    for point in sorted(series):
        by_month[(point[0].year, point[0].month)] = point
    return [by_month[key] for key in sorted(by_month)]


def _slope(points: list[tuple[int, float]]) -> float:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if not sxx:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx


def gap(numerator: int, denominator: int, threshold: Decimal) -> int:
    """How many more must count for numerator / denominator to reach the threshold."""
    return max(0, math.ceil(denominator * Decimal(threshold)) - numerator)
