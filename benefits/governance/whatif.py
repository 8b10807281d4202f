"""What-if of the cut list: the targets' national ratios and the population reached, now
and if the items' areas were cut."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max, Sum

from actors.models import Catchment, HealthTrust
from rollout.choices import CutStatus
from rollout.models import CutListItem, Solution

from .access import can_read


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
