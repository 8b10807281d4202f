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
  services have kjernejournal in use, out of all the municipalities of the day (356
  before 2024, 357 from 2024: the structure of each day, actors.structure.StructureOn).
- Organisations count in their own health-trust area; a municipality counts in every area
  its catchment belongs to (Oslo in two), and once in its region and county.
- Organisations are counted with the type, municipality, area and active flag they had
  on the day (the registry's versions, actors.registry), and the status of that day from
  the status history. An organisation in a municipality that did not exist that day
  counts where StructureOn(day).counted_in puts it (Haram's in Ålesund in 2023); the
  county level is that day's counties (11 before 2024, 15 from 2024).

How it is computed: the status on any day is the sum of the history's steps up to that day
(each change adds one where it enters the achieved set and takes one away where it
leaves it; the history is append-only and never back-dated behind the current status, so
the steps add up). The database sums the steps per day, municipality and area in one
aggregate query and counts the organisations per municipality and area in another; the
few hundred cells are then rolled up to the levels here, in one sweep over the days (a
day on which nothing changed repeats the day before). No loop over organisations,
except the few whose registry state changed after the first day counted: they are left
out of the two aggregates and replayed one by one from their versions and history.

Today's figures in the coverage jobs come from the current statuses instead: one grouped
query counts every target's organisations per municipality, area and status
(`Structure.load_present`, `present_cells`), the same figures as the history's while the
two agree (rollout.integrity checks that; its coverage check compares the stored figures
with `compute` from the history). The jobs write only the days whose figures changed
(`benefits.services.snapshots_store`).

Forecast: a linear least-squares fit of the national (or chosen scope's) ratio over the
last twelve months of snapshots gives the pace; the projected date is when, at that pace
from the latest value, the threshold is reached. See `forecasting.forecast`.

The modules:
- `counting`: the reference structure, the cells and steps, `compute` and `roll_up`, and
  `independent_count` (the same figure straight from the current statuses, to check it);
- `forecasting`: the pace, the projected date and the verdict;
- `scopes`: the places a user may see, and the reads of the stored snapshots there (target
  statuses, the breakdown by place, the latest share per place);
- `missing`: the organisations and municipalities that do not (yet) count, from the
  current statuses; their grouped counts are cached until statuses or organisations
  change (rollout.selectors.cached_figures), per query (so per scope and place).

This package re-exports the names the rest of the project uses as `coverage.<name>`.
"""

from .counting import Structure, compute, independent_count, present_cells
from .forecasting import RISK_MARGIN_DAYS, forecast, last_of_each_month
from .missing import (
    attach_missing,
    missing_municipalities,
    missing_organisations,
    missing_sizes,
)
from .scopes import (
    ScopeRef,
    TargetStatus,
    breakdown,
    latest_by_place,
    resolve_scope,
    scope_options,
    target_statuses,
    visible_snapshots,
)

__all__ = [
    "RISK_MARGIN_DAYS",
    "ScopeRef",
    "Structure",
    "TargetStatus",
    "attach_missing",
    "breakdown",
    "compute",
    "forecast",
    "independent_count",
    "last_of_each_month",
    "latest_by_place",
    "missing_municipalities",
    "missing_organisations",
    "missing_sizes",
    "present_cells",
    "resolve_scope",
    "scope_options",
    "target_statuses",
    "visible_snapshots",
]
