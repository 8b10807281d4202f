"""Coverage targets (resultatmål): how they are counted, rolled up, forecast and read.

For now everything is in `counting`; this package re-exports what the rest of the project uses.
"""

from .counting import (
    RISK_MARGIN_DAYS,
    ScopeRef,
    Structure,
    TargetStatus,
    attach_missing,
    breakdown,
    compute,
    forecast,
    independent_count,
    last_of_each_month,
    latest_by_place,
    missing_municipalities,
    missing_organisations,
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
    "resolve_scope",
    "scope_options",
    "target_statuses",
    "visible_snapshots",
]
