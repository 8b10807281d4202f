"""The places a user may see coverage figures for, and the reads of the stored snapshots at a
place: each target's status and forecast, the breakdown by area or county, the latest shares."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Max, Q, Subquery, Sum, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.utils.translation import gettext as _

from actors.models import County, HealthTrust, Municipality, RegionalHealthAuthority
from actors.structure import StructureOn

from ..choices import Level
from ..models import CoverageSnapshot, CoverageTarget
from .forecasting import Forecast, forecast, gap


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
    places = (
        (Level.REGION, "rha", RegionalHealthAuthority.objects.order_by("name"), "code"),
        (Level.AREA, "area", HealthTrust.objects.visible_to(user).order_by("name"), "code"),
        (Level.COUNTY, "county", visible_counties(user).order_by("number"), "number"),
        (
            Level.MUNICIPALITY,
            "municipality",
            Municipality.objects.current().visible_to(user).order_by("name"),
            "number",
        ),
    )
    for level, prefix, rows, key in places:
        options += [
            ScopeRef(level, pk, f"{prefix}:{code}", name)
            for pk, code, name in rows.values_list("pk", key, "name")
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
        return County.objects.current()
    return County.objects.current().filter(
        pk__in=Municipality.objects.visible_to(user).values("county_id")
    )


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
    # A county of today that did not exist on the first days of the series: until this
    # day, the figures are the sums of the municipalities that are in the county today.
    mapped_until: datetime.date | None = None

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
    mapped_until = None
    if scope.level == Level.COUNTY:
        mapped_until = _county_before_it_existed(targets, scope.scope_id, by_target)
    statuses = []
    for target in targets:
        series = by_target[target.pk]
        status = TargetStatus(target, scope, series)
        if mapped_until and series and series[0][0] <= mapped_until:
            status.mapped_until = mapped_until
        status.forecast = forecast(
            [(d, n / den) for d, n, den in series if den],
            float(target.threshold),
            target.deadline,
        )
        statuses.append(status)
    return statuses


def _county_before_it_existed(
    targets: list[CoverageTarget], county_id: int, by_target: dict[int, list]
) -> datetime.date | None:
    """For a county of today that did not exist on earlier snapshot days (Vestfold before
    2024, when Vestfold og Telemark stood), put in front of each target's series the sums
    of the municipality figures of those days over the municipalities that are in the
    county today (actors.structure.StructureOn: where each municipality of a day is
    counted today), so one series runs across the change. Returns the last day so filled
    (None: the county existed on every day). One aggregate query."""
    county = County.objects.filter(pk=county_id).first()
    if county is None:
        return None
    today = StructureOn()
    members = []
    for pk in Municipality.objects.values_list("pk", flat=True):
        try:
            if today.county_of(pk) == county_id:
                members.append(pk)
        except KeyError:
            continue
    rows = (
        CoverageSnapshot.objects.filter(
            target__in=[t.pk for t in targets],
            level=Level.MUNICIPALITY,
            scope_id__in=members,
            day__lt=county.valid_from,
        )
        .values_list("target_id", "day")
        .annotate(num=Sum("numerator"), den=Sum("denominator"))
        .order_by("target_id", "day")
    )
    earlier: dict[int, list] = defaultdict(list)
    last = None
    for target_id, day, num, den in rows:
        earlier[target_id].append((day, num, den))
        last = max(last or day, day)
    for target_id, series in earlier.items():
        by_target[target_id] = series + [r for r in by_target[target_id] if r[0] > last]
    return last


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
    target tracked per area, each area gets its own forecast (one more query). One query
    otherwise."""
    places = {o.scope_id: o for o in options if o.level == level}
    at_level = CoverageSnapshot.objects.filter(target=target, level=level)
    latest = at_level.order_by("-day").values("day")[:1]
    rows = [
        BreakdownRow(places[s], num, den, target.threshold)
        for s, num, den in at_level.filter(
            day=Subquery(latest), scope_id__in=list(places)
        ).values_list("scope_id", "numerator", "denominator")
    ]
    if not rows:
        return []
    if target.per_area and level == Level.AREA:
        # A forecast reads the last point of each month (forecasting.last_of_each_month):
        # the database picks those, not every day of the history.
        last_of_month = Window(
            RowNumber(),
            partition_by=[F("scope_id"), TruncMonth("day")],
            order_by=F("day").desc(),
        )
        series: dict[int, list] = defaultdict(list)
        for scope_id, day, num, den in (
            CoverageSnapshot.objects.filter(
                target=target, level=level, scope_id__in=list(places), denominator__gt=0
            )
            .annotate(nth=last_of_month)
            .filter(nth=1)
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
