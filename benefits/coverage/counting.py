"""Counting a coverage target: who counts on any day, from the status history, rolled up to
every level (the rules are in the package docstring), and an independent count to check it."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Sum, Value, When

from actors.models import Catchment, HealthTrust, Municipality, Organisation
from rollout.choices import Status
from rollout.models import RolloutStatus, StatusChange

from ..choices import Denominator, Level, MunicipalityRule, TargetUnit
from ..models import CoverageTarget

# Values per (level, scope id): (numerator, denominator).
Values = dict[tuple[str, int], tuple[int, int]]


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


def _base_cells(target: CoverageTarget) -> dict[tuple[int, int], int]:
    """{(municipality id, trust id): active organisations of the target's types}."""
    rows = (
        target_organisations(target)
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
            organisation__in=target_organisations(target),
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
    for m in Municipality.objects.values_list("pk", flat=True):
        cell = Cell(totals.get(m, 0), done.get(m, 0), out.get(m, 0))
        counted, in_denominator = municipality_counts(target, cell)
        num += counted
        den += in_denominator
    return num, den
