"""Coverage targets (resultatmål): how they are counted, rolled up, forecast and read.

Counting rules (one place):
- An organisation counts when it is active, of one of the target's types, and its rollout
  status for the target's solution is one of the target's achieved statuses. With the
  RELEVANT denominator, organisations marked "not relevant" leave the denominator.
- A municipality counts (municipality targets) under the ALL rule when it has at least one
  relevant organisation of the types and every one of them is achieved; under the ANY rule
  when at least one is. The denominator is every municipality (ALL) or those with at least
  one relevant organisation of the types (RELEVANT). So "kjernejournal in 80 % of the
  municipal care services" counts a municipality when all its nursing homes and home-care
  services have kjernejournal in use, out of all 356 municipalities.
- Organisations count in their own health-trust area; a municipality counts in every area
  its catchment belongs to (Oslo in two), and once in its region and county.
- Organisations are counted with their current type, municipality and active state (the
  registry keeps no history of those); the status on a past day comes from the history.

How it is computed: the status on any day is the sum of the history's steps up to that day
(each change adds one where it enters the achieved set and takes one away where it
leaves it; the history is append-only and never back-dated behind the current status, so
the steps add up). The database sums the steps per day, municipality and area in one
aggregate query and counts the organisations per municipality and area in another; the
few hundred cells are then rolled up to the levels here. No loop over organisations.

Forecast: a linear least-squares fit of the national (or chosen scope's) ratio over the
last twelve months of snapshots gives the pace; the projected date is when, at that pace
from the latest value, the threshold is reached. See `forecast`.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.utils.translation import gettext as _

from actors.models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    Organisation,
    RegionalHealthAuthority,
)
from rollout.choices import Status
from rollout.models import RolloutStatus, StatusChange
from rollout.selectors import with_status

from ..choices import Denominator, Level, MunicipalityRule, TargetUnit, Verdict
from ..models import CoverageSnapshot, CoverageTarget

# Values per (level, scope id): (numerator, denominator).
Values = dict[tuple[str, int], tuple[int, int]]

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


# --- structure ------------------------------------------------------------------------


@dataclass
class Structure:
    """The reference structure the roll-up needs, read once (four small queries)."""

    trust_region: dict[int, int]
    municipality_county: dict[int, int]
    municipality_trusts: dict[int, list[int]]

    @classmethod
    def load(cls) -> Structure:
        trusts = dict(HealthTrust.objects.values_list("pk", "regional_health_authority_id"))
        counties = dict(Municipality.objects.values_list("pk", "county_id"))
        catchments: dict[int, list[int]] = defaultdict(list)
        for m, t in Catchment.objects.values_list("municipality_id", "health_trust_id"):
            catchments[m].append(t)
        return cls(trusts, counties, dict(catchments))


# --- counting -------------------------------------------------------------------------


def _step(field_name: str, statuses) -> Sum:
    return Sum(
        Case(When(**{f"{field_name}__in": list(statuses)}, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )


def _target_organisations(target: CoverageTarget, organisations=None):
    """Active organisations of the target's types (among `organisations`, e.g. those
    visible to a user; by default all)."""
    organisations = Organisation.objects.all() if organisations is None else organisations
    return organisations.filter(is_active=True, type__in=target.organisation_types.values("pk"))


@dataclass
class Cell:
    total: int = 0
    achieved: int = 0
    excluded: int = 0  # marked not relevant

    @property
    def relevant(self) -> int:
        return self.total - self.excluded


def _base_cells(target: CoverageTarget) -> dict[tuple[int, int], int]:
    """{(municipality id, trust id): active organisations of the target's types}."""
    rows = (
        _target_organisations(target)
        .values_list("municipality_id", "health_trust_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(m, t): n for m, t, n in rows}


def _steps(target: CoverageTarget, last_day: datetime.date, per_day: bool):
    """The history's steps summed per (day,) municipality and area, oldest first:
    (day or None, municipality id, trust id, achieved step, not-relevant step)."""
    achieved = target.achieved_statuses
    excluded = [Status.NOT_RELEVANT]
    keys = ["organisation__municipality_id", "organisation__health_trust_id"]
    if per_day:
        keys.insert(0, "effective_date")
    rows = (
        StatusChange.objects.filter(
            solution_id=target.solution_id,
            effective_date__lte=last_day,
            organisation__in=_target_organisations(target),
        )
        .values(*keys)
        .annotate(
            d_achieved=_step("to_status", achieved) - _step("from_status", achieved),
            d_excluded=_step("to_status", excluded) - _step("from_status", excluded),
        )
        .order_by(*keys)
    )
    for row in rows:
        yield (
            row.get("effective_date"),
            row["organisation__municipality_id"],
            row["organisation__health_trust_id"],
            row["d_achieved"],
            row["d_excluded"],
        )


def compute(
    target: CoverageTarget, days: Iterable[datetime.date], structure: Structure | None = None
) -> dict[datetime.date, Values]:
    """{day: {(level, scope id): (numerator, denominator)}} for each of `days`.
    Two aggregate queries whatever the number of days or organisations."""
    days = sorted(set(days))
    if not days:
        return {}
    structure = structure or Structure.load()
    cells: dict[tuple[int, int], Cell] = {
        key: Cell(total=n) for key, n in _base_cells(target).items()
    }
    steps = _steps(target, days[-1], per_day=len(days) > 1)
    pending = next(steps, None)
    result = {}
    for day in days:
        while pending is not None and (pending[0] is None or pending[0] <= day):
            cell = cells.setdefault((pending[1], pending[2]), Cell())
            cell.achieved += pending[3]
            cell.excluded += pending[4]
            pending = next(steps, None)
        result[day] = roll_up(target, cells, structure)
    return result


def roll_up(target: CoverageTarget, cells: dict[tuple[int, int], Cell], structure) -> Values:
    """Numerator and denominator per level from the (municipality, area) cells."""
    sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])

    def add(keys, num: int, den: int) -> None:
        for key in keys:
            pair = sums[key]
            pair[0] += num
            pair[1] += den

    if target.unit == TargetUnit.ORGANISATIONS:
        relevant_only = target.denominator == Denominator.RELEVANT
        for (m, t), cell in cells.items():
            den = cell.relevant if relevant_only else cell.total
            keys = [
                (Level.NATION, 0),
                (Level.REGION, structure.trust_region[t]),
                (Level.AREA, t),
                (Level.COUNTY, structure.municipality_county[m]),
                (Level.MUNICIPALITY, m),
            ]
            add(keys, cell.achieved, den)
    else:
        per_municipality: dict[int, Cell] = defaultdict(Cell)
        for (m, _t), cell in cells.items():
            total = per_municipality[m]
            total.total += cell.total
            total.achieved += cell.achieved
            total.excluded += cell.excluded
        for m, county in structure.municipality_county.items():
            cell = per_municipality.get(m, Cell())
            counted, in_denominator = municipality_counts(target, cell)
            trusts = structure.municipality_trusts.get(m, [])
            keys = [
                (Level.NATION, 0),
                *{(Level.REGION, structure.trust_region[t]) for t in trusts},
                *((Level.AREA, t) for t in trusts),
                (Level.COUNTY, county),
                (Level.MUNICIPALITY, m),
            ]
            add(keys, int(counted), int(in_denominator))
    sums.setdefault((Level.NATION, 0), [0, 0])
    return {key: (num, den) for key, (num, den) in sums.items()}


def municipality_counts(target: CoverageTarget, cell: Cell) -> tuple[bool, bool]:
    """(counted, in the denominator) for one municipality of a municipality target."""
    relevant = cell.relevant
    if target.municipality_rule == MunicipalityRule.ALL:
        counted = relevant > 0 and cell.achieved >= relevant
    else:
        counted = cell.achieved > 0
    in_denominator = target.denominator == Denominator.ALL or relevant > 0
    return counted, in_denominator


# --- forecast -------------------------------------------------------------------------


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


# --- scopes and reads -----------------------------------------------------------------


@dataclass(frozen=True)
class ScopeRef:
    """A place the figures are for: the nation, a region, an area, a county, a municipality."""

    level: str
    scope_id: int
    key: str  # for URLs: "nation", "rha:helse-vest", "area:helse-bergen", "county:46", ...
    name: str

    @property
    def level_label(self) -> str:
        return str(Level(self.level).label)


def scope_options(user) -> list[ScopeRef]:
    """The places whose figures the user may see: the nation and the regions (aggregates
    for everyone with a role), and the areas, counties and municipalities in their reach.
    Six small queries."""
    from actors import scoping

    scope = scoping.scope_for(user)
    if not scope.role:
        return []
    options = [ScopeRef(Level.NATION, 0, "nation", _("Norway"))]
    options += [
        ScopeRef(Level.REGION, r.pk, f"rha:{r.code}", r.name)
        for r in RegionalHealthAuthority.objects.order_by("name")
    ]
    options += [
        ScopeRef(Level.AREA, t.pk, f"area:{t.code}", t.name)
        for t in HealthTrust.objects.visible_to(user).order_by("name")
    ]
    options += [
        ScopeRef(Level.COUNTY, c.pk, f"county:{c.number}", c.name)
        for c in visible_counties(user).order_by("number")
    ]
    options += [
        ScopeRef(Level.MUNICIPALITY, m.pk, f"municipality:{m.number}", m.name)
        for m in Municipality.objects.visible_to(user).order_by("name")
    ]
    return options


def resolve_scope(user, key: str | None, options: list[ScopeRef]) -> ScopeRef | None:
    """The place a key names among the user's options (see scope_options); without a key,
    the user's default; None when the key is unknown or out of reach (answer 404: an
    unknown place and a forbidden one look the same)."""
    if not key:
        return default_scope(user, options)
    return next((o for o in options if o.key == key), None)


def visible_counties(user):
    from actors import scoping

    if scoping.scope_for(user).sees_all:
        return County.objects.all()
    return County.objects.filter(pk__in=Municipality.objects.visible_to(user).values("county_id"))


def default_scope(user, options: list[ScopeRef]) -> ScopeRef | None:
    """The nation for those who see everything; otherwise the user's first area."""
    from actors import scoping

    if not options:
        return None
    if scoping.scope_for(user).sees_all:
        return options[0]
    areas = [o for o in options if o.level == Level.AREA]
    return areas[0] if areas else options[0]


def visible_snapshots(user):
    """Snapshots of the places in the user's reach (see scope_options)."""
    from actors import scoping

    scope = scoping.scope_for(user)
    qs = CoverageSnapshot.objects.all()
    if not scope.role:
        return qs.none()
    if scope.sees_all:
        return qs
    return qs.filter(
        Q(level__in=[Level.NATION, Level.REGION])
        | Q(level=Level.AREA, scope_id__in=HealthTrust.objects.visible_to(user).values("pk"))
        | Q(level=Level.COUNTY, scope_id__in=visible_counties(user).values("pk"))
        | Q(
            level=Level.MUNICIPALITY,
            scope_id__in=Municipality.objects.visible_to(user).values("pk"),
        )
    )


@dataclass
class TargetStatus:
    """A target at one place: latest figures, its series and the forecast."""

    target: CoverageTarget
    scope: ScopeRef
    series: list[tuple[datetime.date, int, int]] = field(default_factory=list)
    forecast: Forecast | None = None

    @property
    def latest(self) -> tuple[datetime.date, int, int] | None:
        return self.series[-1] if self.series else None

    @property
    def ratio(self) -> float | None:
        latest = self.latest
        return latest[1] / latest[2] if latest and latest[2] else None

    @property
    def gap(self) -> int:
        """How many more must count to reach the threshold."""
        latest = self.latest
        return gap(latest[1], latest[2], self.target.threshold) if latest else 0


def target_statuses(targets: list[CoverageTarget], scope: ScopeRef) -> list[TargetStatus]:
    """Each target's series and forecast at one place. One query for all targets."""
    by_target: dict[int, list] = defaultdict(list)
    rows = (
        CoverageSnapshot.objects.filter(
            target__in=[t.pk for t in targets], level=scope.level, scope_id=scope.scope_id
        )
        .order_by("target_id", "day")
        .values_list("target_id", "day", "numerator", "denominator")
    )
    for target_id, day, num, den in rows:
        by_target[target_id].append((day, num, den))
    statuses = []
    for target in targets:
        series = by_target[target.pk]
        status = TargetStatus(target, scope, series)
        status.forecast = forecast(
            [(d, n / den) for d, n, den in series if den],
            float(target.threshold),
            target.deadline,
        )
        statuses.append(status)
    return statuses


@dataclass
class BreakdownRow:
    scope: ScopeRef
    numerator: int
    denominator: int
    threshold: Decimal
    forecast: Forecast | None = None  # for targets tracked per area

    @property
    def ratio(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0

    share = ratio

    @property
    def name(self) -> str:
        return self.scope.name

    @property
    def gap(self) -> int:
        return gap(self.numerator, self.denominator, self.threshold)


def breakdown(target: CoverageTarget, options: list[ScopeRef], level: str) -> list[BreakdownRow]:
    """The latest figures per area or county in the user's reach, largest gap first. For a
    target tracked per area, each area gets its own forecast (one more query)."""
    places = {o.scope_id: o for o in options if o.level == level}
    latest = CoverageSnapshot.objects.filter(target=target, level=level).order_by("-day").first()
    if latest is None:
        return []
    rows = [
        BreakdownRow(places[s], num, den, target.threshold)
        for s, num, den in CoverageSnapshot.objects.filter(
            target=target, level=level, day=latest.day, scope_id__in=list(places)
        ).values_list("scope_id", "numerator", "denominator")
    ]
    if target.per_area and level == Level.AREA:
        series: dict[int, list] = defaultdict(list)
        for scope_id, day, num, den in (
            CoverageSnapshot.objects.filter(
                target=target, level=level, scope_id__in=list(places), denominator__gt=0
            )
            .order_by("day")
            .values_list("scope_id", "day", "numerator", "denominator")
        ):
            series[scope_id].append((day, num / den))
        for row in rows:
            row.forecast = forecast(
                series[row.scope.scope_id], float(target.threshold), target.deadline
            )
    return sorted(rows, key=lambda r: (-r.gap, r.ratio, r.scope.name))


def latest_by_place(
    targets: list[CoverageTarget], level: str, scope_ids: list[int]
) -> dict[tuple[int, int], float | None]:
    """{(target id, place id): share} from each target's latest snapshot day at a level.
    Two queries whatever the length of the history."""
    latest = dict(
        CoverageSnapshot.objects.filter(target__in=targets, level=level)
        .values_list("target_id")
        .annotate(day=Max("day"))
        .order_by()
    )
    if not latest:
        return {}
    when = Q()
    for target_id, day in latest.items():
        when |= Q(target_id=target_id, day=day)
    rows = CoverageSnapshot.objects.filter(when, level=level, scope_id__in=scope_ids)
    return {
        (t, s): (n / d if d else None)
        for t, s, n, d in rows.values_list("target_id", "scope_id", "numerator", "denominator")
    }


# --- who is missing -------------------------------------------------------------------


def missing_organisations(target: CoverageTarget, user, scope: ScopeRef):
    """Organisations of an organisation target, in the user's reach and at the place, not
    (yet) counted, with their current status and reason (and what they wait for)."""
    qs = with_status(
        _target_organisations(target, Organisation.objects.visible_to(user)), target.solution
    ).exclude(current_status__in=target.achieved_statuses)
    if target.denominator == Denominator.RELEVANT:
        qs = qs.exclude(current_status=Status.NOT_RELEVANT)
    return _at_place(qs, scope).select_related("type", "municipality", "health_trust")


def _at_place(qs, scope: ScopeRef):
    """Narrow organisations or municipalities to a place."""
    org = qs.model is Organisation
    lookups = {
        Level.REGION: (
            "health_trust__regional_health_authority_id"
            if org
            else "catchments__health_trust__regional_health_authority_id"
        ),
        Level.AREA: "health_trust_id" if org else "catchments__health_trust_id",
        Level.COUNTY: "municipality__county_id" if org else "county_id",
        Level.MUNICIPALITY: "municipality_id" if org else "pk",
    }
    if scope.level == Level.NATION:
        return qs
    return qs.filter(**{lookups[scope.level]: scope.scope_id}).distinct()


@dataclass
class MunicipalityGap:
    municipality: Municipality
    cell: Cell
    missing: list = field(default_factory=list)  # (organisation, status, reason)


def missing_municipalities(target: CoverageTarget, user, scope: ScopeRef) -> list[MunicipalityGap]:
    """Municipalities of a municipality target, in reach and at the place, that do not count,
    with their organisations' counts (one aggregate query). `attach_missing` then names the
    organisations that hold back the municipalities on one page."""
    municipalities = _at_place(Municipality.objects.visible_to(user), scope)
    rows = (
        with_status(
            _target_organisations(target).filter(municipality__in=municipalities.values("pk")),
            target.solution,
        )
        .values("municipality_id")
        .annotate(
            total=Count("id"),
            achieved=Count("id", filter=Q(current_status__in=target.achieved_statuses)),
            excluded=Count("id", filter=Q(current_status=Status.NOT_RELEVANT)),
        )
        .order_by()
    )
    cells = {r["municipality_id"]: Cell(r["total"], r["achieved"], r["excluded"]) for r in rows}
    gaps = []
    for m in municipalities.select_related("county").order_by("name"):
        cell = cells.get(m.pk, Cell())
        counted, in_denominator = municipality_counts(target, cell)
        if in_denominator and not counted:
            gaps.append(MunicipalityGap(m, cell))
    return gaps


def attach_missing(target: CoverageTarget, user, gaps: list[MunicipalityGap]) -> None:
    """Fill `missing` of each gap: its organisations of the types, within the user's reach,
    not achieved and not marked not relevant, with their status and reason. One query for
    all the gaps. (A coordinator of one of Oslo's areas sees Oslo, but only the
    organisations of their own area.)"""
    by_municipality = {g.municipality.pk: g for g in gaps}
    organisations = (
        with_status(
            _target_organisations(target, Organisation.objects.visible_to(user)).filter(
                municipality__in=list(by_municipality)
            ),
            target.solution,
        )
        .exclude(current_status__in=[*target.achieved_statuses, Status.NOT_RELEVANT])
        .select_related("type")
        .order_by("name")
    )
    for o in organisations:
        by_municipality[o.municipality_id].missing.append(o)


def independent_count(target: CoverageTarget) -> tuple[int, int]:
    """The national figure today straight from the current statuses (for checks and the
    benchmark): organisations, or municipalities under the target's rule."""
    organisations = _target_organisations(target)
    achieved = RolloutStatus.objects.filter(
        solution_id=target.solution_id,
        organisation__in=organisations,
        status__in=target.achieved_statuses,
    )
    excluded = RolloutStatus.objects.filter(
        solution_id=target.solution_id,
        organisation__in=organisations,
        status=Status.NOT_RELEVANT,
    )
    if target.unit == TargetUnit.ORGANISATIONS:
        den = organisations.count()
        if target.denominator == Denominator.RELEVANT:
            den -= excluded.count()
        return achieved.count(), den
    totals = dict(organisations.values_list("municipality_id").annotate(n=Count("id")).order_by())
    done = dict(
        achieved.values_list("organisation__municipality_id").annotate(n=Count("id")).order_by()
    )
    out = dict(
        excluded.values_list("organisation__municipality_id").annotate(n=Count("id")).order_by()
    )
    num = den = 0
    for m in Municipality.objects.values_list("pk", flat=True):
        cell = Cell(totals.get(m, 0), done.get(m, 0), out.get(m, 0))
        counted, in_denominator = municipality_counts(target, cell)
        num += counted
        den += in_denominator
    return num, den
