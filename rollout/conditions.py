"""The conditions an area must meet before a solution starts there (the area readiness
verdict). Rollout defines its own here; the apps above register theirs in their
AppConfig.ready() (benefits: intention agreements; governance: external deliveries), so
rollout never imports them. `rollout.selectors.area_readiness` evaluates them all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from actors.models import HealthTrust, RecordSystem

from .choices import VendorSupport
from .models import RecordSystemSupport, Solution
from .templatetags.rollout_tags import percent


@dataclass
class AreaFacts:
    """What every condition may read about one area and solution."""

    solution: Solution
    trust: HealthTrust
    # The applicable organisations as plain values (rollout.selectors.AreaActor: pk,
    # type_id, record_system_id, current_status, is_ready), thousands in a large area.
    organisations: list
    by_type: list[dict]  # per organisation type: type, organisations, ready, total, share, counts
    threshold: float  # the share of actors that must be ready
    # The same organisations as a queryset of their pks: a subquery, for a check that
    # asks the database about them (cheaper than sending thousands of ids).
    organisation_ids: QuerySet

    @property
    def total(self) -> int:
        return len(self.organisations)


@dataclass
class Condition:
    """One condition's verdict: `met` of `total` against its `threshold` (a share, or
    None when every one must pass), and whom it fails for."""

    name: str
    label: str  # what it requires, in a sentence
    shortfall: str  # what is wrong when it fails, in a few words
    passed: bool
    met: int
    total: int
    failing: list = field(default_factory=list)
    threshold: float | None = None
    # The area's actors it fails for, in the order of facts.organisations, when it judges
    # actors one by one (the area page filters its list of actors by it); None for a
    # condition about something else.
    failing_actors: list | None = None

    @property
    def detail(self) -> str:
        return f"{self.met} / {self.total}"


def share_condition(name, label, shortfall, facts, met, failing, threshold) -> Condition:
    """A condition that passes when at least `threshold` of the area's actors meet it."""
    total = facts.total
    return Condition(
        name,
        label,
        shortfall,
        passed=total > 0 and met / total >= threshold,
        met=met,
        total=total,
        failing=failing,
        threshold=threshold,
        failing_actors=failing,
    )


Check = Callable[[AreaFacts], Condition]
_CHECKS: dict[str, tuple[int, Check]] = {}


def register(name: str, check: Check, *, order: int) -> None:
    """Add (or replace) the condition `name`; conditions are listed by `order`."""
    _CHECKS[name] = (order, check)


def names() -> list[str]:
    """The registered conditions, in their order."""
    return sorted(_CHECKS, key=lambda name: _CHECKS[name][0])


def evaluate(facts: AreaFacts, only: Iterable[str] | None = None) -> list[Condition]:
    """Every condition's verdict (or only those named), in their order."""
    wanted = names() if only is None else [name for name in names() if name in set(only)]
    return [_CHECKS[name][1](facts) for name in wanted]


# --- rollout's own conditions --------------------------------------------------------


def ready(facts: AreaFacts) -> Condition:
    orgs = facts.organisations
    return share_condition(
        "ready",
        _("At least %(t)s of the actors are technically and organisationally ready")
        % {"t": percent(facts.threshold)},
        _("Too few actors are ready"),
        facts,
        sum(o.is_ready for o in orgs),
        [o for o in orgs if not o.is_ready],
        facts.threshold,
    )


def vendors(facts: AreaFacts) -> Condition:
    """Every record system in use in the area is supported by its vendor; `failing` holds
    (system, number of actors, support) for the others."""
    systems = Counter(o.record_system_id for o in facts.organisations if o.record_system_id)
    support = dict(
        RecordSystemSupport.objects.filter(
            solution=facts.solution, record_system__in=systems
        ).values_list("record_system_id", "support")
    )
    unsupported = [
        (system, systems[system.pk], support.get(system.pk))
        for system in RecordSystem.objects.filter(pk__in=systems).select_related("vendor")
        if support.get(system.pk) != VendorSupport.SUPPORTED
    ]
    without = {system.pk for system, _n, _support in unsupported}
    return Condition(
        "vendors",
        _("The vendors of every record system used here support the solution"),
        _("Record systems in use lack vendor support"),
        passed=not unsupported,
        met=len(systems) - len(unsupported),
        total=len(systems),
        failing=unsupported,
        failing_actors=[o for o in facts.organisations if o.record_system_id in without],
    )


def together(facts: AreaFacts) -> Condition:
    """Every organisation type has its ready share (the actors start together); it fails
    for the actors not ready in the types that lag."""
    lagging = [g for g in facts.by_type if g["share"] < facts.threshold]
    return Condition(
        "together",
        _("The actors can start together: every type has at least %(t)s ready")
        % {"t": percent(facts.threshold)},
        _("Some types of actors are not ready to start together"),
        passed=facts.total > 0 and not lagging,
        met=len(facts.by_type) - len(lagging),
        total=len(facts.by_type),
        failing=lagging,
        threshold=facts.threshold,
        failing_actors=[o for g in lagging for o in g["organisations"] if not o.is_ready],
    )


register("ready", ready, order=10)
register("vendors", vendors, order=30)
register("together", together, order=40)
