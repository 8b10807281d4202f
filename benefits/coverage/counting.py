"""Counting a coverage target: who counts on any day, from the status history, rolled up to
every level (the rules are in the package docstring), and an independent count to check it."""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Count, IntegerField, Sum, Value, When

from actors import registry
from actors.models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    MunicipalityVersion,
    Organisation,
)
from actors.structure import StructureOn
from rollout.choices import Status
from rollout.models import RolloutStatus, StatusChange

from ..choices import Denominator, Level, MunicipalityRule, TargetUnit
from ..models import CoverageTarget

# Values per (level, scope id): (numerator, denominator).
Values = dict[tuple[str, int], tuple[int, int]]


# --- structure ------------------------------------------------------------------------


@dataclass
class Structure:
    """The reference structure the roll-up needs, read once: the areas' regions, the
    catchments, and the municipal structure of each day (actors.structure.StructureOn, read
    once per period between two structure changes)."""

    trust_region: dict[int, int]
    municipality_trusts: dict[int, list[int]]
    changes: list[datetime.date] = field(default_factory=list)  # days the structure changes
    _periods: dict[int, DayStructure] = field(default_factory=dict)
    # Today's cells from the current statuses, for the targets given to `load_present`
    # ({target id: cells}); `compute` uses them for `present_day` instead of the history.
    present_day: datetime.date | None = None
    present: dict[int, dict[tuple[int, int], Cell]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Structure:
        trusts = dict(HealthTrust.objects.values_list("pk", "regional_health_authority_id"))
        catchments: dict[int, list[int]] = defaultdict(list)
        for m, t in Catchment.objects.values_list("municipality_id", "health_trust_id"):
            catchments[m].append(t)
        changes = set()
        for model in (Municipality, MunicipalityVersion, County):
            for start, end in model.objects.values_list("valid_from", "valid_to"):
                changes.add(start)
                if end is not None:
                    changes.add(end + datetime.timedelta(days=1))
        return cls(trusts, dict(catchments), sorted(changes))

    def on(self, day: datetime.date) -> DayStructure:
        """The municipal structure of `day` (worked out once per period)."""
        period = bisect.bisect_right(self.changes, day)
        if period not in self._periods:
            self._periods[period] = DayStructure.of(StructureOn(day), self)
        return self._periods[period]

    def load_present(self, targets: list[CoverageTarget], day: datetime.date) -> None:
        """Read the cells of every one of `targets` on `day` (today) from the current
        statuses, in one grouped query for all of them (`present_cells`); `compute` then
        counts that day from them instead of summing the history."""
        self.present_day = day
        self.present = present_cells(targets)


@dataclass
class DayStructure:
    """A day's municipal structure as the roll-up reads it: the municipalities of the day
    (`on.places`) and, for every municipality, {id: (municipality of the day it counts
    in, that one's county)} (StructureOn.counted_in, worked out once)."""

    on: StructureOn
    placing: dict[int, tuple[int, int]]
    structure: Structure
    _cell_keys: dict[tuple[int, int], tuple] = field(default_factory=dict)
    _place_keys: dict[int, tuple] = field(default_factory=dict)

    @classmethod
    def of(cls, on: StructureOn, structure: Structure) -> DayStructure:
        placing = {}
        for pk in Municipality.objects.values_list("pk", flat=True):
            try:
                home = on.counted_in(pk)
            except KeyError:
                continue  # no counterpart that day: it has no organisations to count
            placing[pk] = (home, on.places[home].county_id)
        return cls(on, placing, structure)

    def cell_keys(self, m: int, t: int) -> tuple:
        """The (level, scope id) an organisation in municipality `m` and area `t` counts
        in: the nation, the area's region, the area, and the county and municipality it
        is counted in that day."""
        keys = self._cell_keys.get((m, t))
        if keys is None:
            home, county = self.placing[m]
            keys = self._cell_keys[(m, t)] = (
                (Level.NATION, 0),
                (Level.REGION, self.structure.trust_region[t]),
                (Level.AREA, t),
                (Level.COUNTY, county),
                (Level.MUNICIPALITY, home),
            )
        return keys

    def place_keys(self, m: int) -> tuple:
        """The (level, scope id) a municipality of the day counts in: the nation, once in
        each region and in every area of its catchment, its county and itself."""
        keys = self._place_keys.get(m)
        if keys is None:
            trusts = self.structure.municipality_trusts.get(m, [])
            regions = {(Level.REGION, self.structure.trust_region[t]) for t in trusts}
            keys = self._place_keys[m] = (
                (Level.NATION, 0),
                *regions,
                *((Level.AREA, t) for t in trusts),
                (Level.COUNTY, self.on.places[m].county_id),
                (Level.MUNICIPALITY, m),
            )
        return keys


# --- counting -------------------------------------------------------------------------


def _step(field_name: str, statuses) -> Sum:
    return Sum(
        Case(When(**{f"{field_name}__in": list(statuses)}, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )


def target_organisations(target: CoverageTarget, organisations=None):
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


def _without(queryset, field_name: str, replayed):
    """`queryset` without the `replayed` organisations (a subquery; None: none)."""
    if replayed is None:
        return queryset
    return queryset.exclude(**{f"{field_name}__in": replayed})


def _base_cells(target: CoverageTarget, replayed=None) -> dict[tuple[int, int], int]:
    """{(municipality id, trust id): active organisations of the target's types}, leaving
    out the `replayed` ones (ids or a subquery)."""
    rows = (
        _without(target_organisations(target), "pk", replayed)
        .values_list("municipality_id", "health_trust_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(m, t): n for m, t, n in rows}


def _steps(target: CoverageTarget, last_day: datetime.date, per_day: bool, replayed=None):
    """The history's steps summed per (day,) municipality and area, oldest first:
    (day or None, municipality id, trust id, achieved step, not-relevant step), leaving
    out the `replayed` organisations."""
    achieved = target.achieved_statuses
    excluded = [Status.NOT_RELEVANT]
    keys = ["organisation__municipality_id", "organisation__health_trust_id"]
    if per_day:
        keys.insert(0, "effective_date")
    changes = StatusChange.objects.filter(
        solution_id=target.solution_id,
        effective_date__lte=last_day,
        organisation__in=target_organisations(target),
    )
    rows = (
        _without(changes, "organisation_id", replayed)
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
    """{day: {(level, scope id): (numerator, denominator)}} for each of `days`, each day
    on the registry and the municipal structure of that day.

    Organisations whose type, place or active flag has not changed since the first day
    stood as they stand today on every day counted: two aggregate queries count them,
    whatever the number of days or organisations. The few that changed are replayed one
    by one from their registry versions and history (two more queries). The day the
    structure holds the present for (`Structure.load_present`: today, read from the
    current statuses for every target at once) is counted from it, without a query."""
    days = sorted(set(days))
    if not days:
        return {}
    structure = structure or Structure.load()
    result = {}
    present = structure.present.get(target.pk)
    if present is not None and days[-1] == structure.present_day:
        day = days.pop()
        result[day] = roll_up(target, present, structure.on(day), structure)
    if days:
        result = {**_from_history(target, days, structure), **result}
    return result


def _from_history(
    target: CoverageTarget, days: list[datetime.date], structure: Structure
) -> dict[datetime.date, Values]:
    """`compute` for `days` (sorted) from the status history: one sweep over the steps."""
    replay = _Replay(target, days[0], days[-1])
    # Without changes since the first day, the aggregates are the plain ones.
    replayed = registry.changed_after_query(days[0]) if replay.ids else None
    cells: dict[tuple[int, int], Cell] = {
        key: Cell(total=n) for key, n in _base_cells(target, replayed).items()
    }
    steps = _steps(target, days[-1], per_day=len(days) > 1, replayed=replayed)
    pending = next(steps, None)
    result = {}
    previous = None
    for day in days:
        changed = False
        while pending is not None and (pending[0] is None or pending[0] <= day):
            cell = cells.setdefault((pending[1], pending[2]), Cell())
            cell.achieved += pending[3]
            cell.excluded += pending[4]
            changed = True
            pending = next(steps, None)
        on = structure.on(day)
        if previous is not None and not changed and not replay.ids and previous[0] is on:
            result[day] = previous[1]  # nothing changed since the day before: the same
        else:
            result[day] = roll_up(target, replay.add_to(cells, day), on, structure)
        previous = (on, result[day])
    return result


def present_cells(targets: list[CoverageTarget]) -> dict[int, dict[tuple[int, int], Cell]]:
    """{target id: {(municipality id, trust id): Cell}} today, from the current statuses:
    the active organisations of each target's types and their status for its solution,
    counted per status in one grouped query for all the targets (an organisation without
    a status row has not started). Equal to summing the history up to today, as long as
    the two agree (rollout.integrity checks that)."""
    if not targets:
        return {}
    by_id = {t.pk: t for t in targets}
    quote = connection.ops.quote_name
    through = CoverageTarget.organisation_types.through._meta.db_table
    marks = ", ".join(["%s"] * len(by_id))
    sql = (
        "SELECT tt.coveragetarget_id, o.municipality_id, o.health_trust_id, s.status, "
        "COUNT(*) "
        f"FROM {quote(through)} tt "
        f"JOIN {quote(CoverageTarget._meta.db_table)} t ON t.id = tt.coveragetarget_id "
        f"JOIN {quote(Organisation._meta.db_table)} o ON o.type_id = tt.organisationtype_id "
        f"LEFT JOIN {quote(RolloutStatus._meta.db_table)} s "
        "ON s.organisation_id = o.id AND s.solution_id = t.solution_id "
        f"WHERE o.is_active = %s AND tt.coveragetarget_id IN ({marks}) "
        "GROUP BY tt.coveragetarget_id, o.municipality_id, o.health_trust_id, s.status"
    )
    cells: dict[int, dict[tuple[int, int], Cell]] = {pk: {} for pk in by_id}
    achieved = {pk: set(t.achieved_statuses) for pk, t in by_id.items()}
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, *by_id])
        for target_id, m, t, status, n in cursor.fetchall():
            cell = cells[target_id].setdefault((m, t), Cell())
            cell.total += n
            if status in achieved[target_id]:
                cell.achieved += n
            elif status == Status.NOT_RELEVANT:
                cell.excluded += n
    return cells


class _Replay:
    """The organisations whose registry state changed after the first day, counted on each
    day with that day's type, place and active flag and that day's status."""

    def __init__(self, target: CoverageTarget, first: datetime.date, last: datetime.date):
        self.ids = registry.changed_after(first)
        self.timelines = registry.Timelines(self.ids) if self.ids else None
        self.types = set(target.organisation_types.values_list("pk", flat=True))
        self.achieved = set(target.achieved_statuses)
        self.history: dict[int, list[tuple[datetime.date, str]]] = defaultdict(list)
        if self.ids:
            for pk, day, status in (
                StatusChange.objects.filter(
                    solution_id=target.solution_id,
                    effective_date__lte=last,
                    organisation_id__in=self.ids,
                )
                .order_by("effective_date", "id")
                .values_list("organisation_id", "effective_date", "to_status")
            ):
                self.history[pk].append((day, status))

    def status_on(self, pk: int, day: datetime.date) -> str:
        status = Status.NOT_STARTED
        for effective, to_status in self.history.get(pk, ()):
            if effective > day:
                break
            status = to_status
        return status

    def add_to(self, cells: dict[tuple[int, int], Cell], day: datetime.date):
        """`cells` with the replayed organisations of `day` added (a copy; `cells` is
        left as it is)."""
        if not self.ids:
            return cells
        cells = {key: Cell(c.total, c.achieved, c.excluded) for key, c in cells.items()}
        for pk in self.ids:
            state = self.timelines.state_on(pk, day)
            if not state.is_active or state.type_id not in self.types:
                continue
            status = self.status_on(pk, day)
            cell = cells.setdefault((state.municipality_id, state.health_trust_id), Cell())
            cell.total += 1
            cell.achieved += status in self.achieved
            cell.excluded += status == Status.NOT_RELEVANT
        return cells


def roll_up(
    target: CoverageTarget,
    cells: dict[tuple[int, int], Cell],
    day: DayStructure,
    structure: Structure,
) -> Values:
    """Numerator and denominator per level from the (municipality, area) cells, in the
    municipal structure of the day (`Structure.on(day)`): its municipalities are the
    municipality level (356 before 2024, 357 after) and its counties the county level; an
    organisation whose municipality did not exist that day counts where
    StructureOn.counted_in says (`day.placing`)."""
    nums: dict[tuple[str, int], int] = defaultdict(int)
    dens: dict[tuple[str, int], int] = defaultdict(int)

    if target.unit == TargetUnit.ORGANISATIONS:
        relevant_only = target.denominator == Denominator.RELEVANT
        for (m, t), cell in cells.items():
            num = cell.achieved
            den = cell.total - cell.excluded if relevant_only else cell.total
            for key in day.cell_keys(m, t):
                nums[key] += num
                dens[key] += den
    else:
        per_municipality: dict[int, Cell] = defaultdict(Cell)
        for (m, _t), cell in cells.items():
            total = per_municipality[day.placing[m][0]]
            total.total += cell.total
            total.achieved += cell.achieved
            total.excluded += cell.excluded
        empty = Cell()
        for m in day.on.places:
            counted, in_denominator = municipality_counts(target, per_municipality.get(m, empty))
            for key in day.place_keys(m):
                nums[key] += counted
                dens[key] += in_denominator
    dens.setdefault((Level.NATION, 0), 0)
    return {key: (nums[key], den) for key, den in dens.items()}


def municipality_counts(target: CoverageTarget, cell: Cell) -> tuple[bool, bool]:
    """(counted, in the denominator) for one municipality of a municipality target."""
    relevant = cell.relevant
    if target.municipality_rule == MunicipalityRule.ALL:
        counted = relevant > 0 and cell.achieved >= relevant
    else:
        counted = cell.achieved > 0
    in_denominator = target.denominator == Denominator.ALL or relevant > 0
    return counted, in_denominator


# --- an independent check -------------------------------------------------------------


def independent_count(target: CoverageTarget) -> tuple[int, int]:
    """The national figure today straight from the current statuses (for checks and the
    benchmark): organisations, or municipalities under the target's rule."""
    organisations = target_organisations(target)
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
    for m in Municipality.objects.current().values_list("pk", flat=True):
        cell = Cell(totals.get(m, 0), done.get(m, 0), out.get(m, 0))
        counted, in_denominator = municipality_counts(target, cell)
        num += counted
        den += in_denominator
    return num, den
