"""The groundwork of the demo's status plan: the organisations it draws from, the random
helpers that turn the documents' dates and shares into events, and the history it loads."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from actors.models import Municipality, Organisation

from .. import services
from ..choices import Status as S
from ..models import Solution
from .constants import BLOCK_REASONS, DAY, PLO, START

# Applied in this order on the same day, so a prerequisite is in use before what needs it.
SOLUTION_ORDER = [
    "kjernejournal",
    "sfm",
    "e-multidose",
    "datadeling",
    "pll",
    "kritisk-informasjon",
    "dokumentdeling",
]


@dataclass(frozen=True)
class Org:
    pk: int
    orgnr: str
    type: str
    municipality: str
    trust: str
    system: str


Event = tuple[str, datetime.date, str]  # status, date, reason


class StatusPlan:
    """Each organisation's events per solution (`tracks`), built by the solution plans
    (kjernejournal, medication, sharing) with these helpers, all drawing from one seeded
    random generator."""

    def __init__(self, seed: int, today: datetime.date):
        self.rng = random.Random(seed * 1_000_003 + 2021)
        self.today = today
        self.orgs = [
            Org(*row)
            for row in Organisation.objects.filter(is_synthetic=True, is_active=True)
            .order_by("orgnr")
            .values_list(
                "pk",
                "orgnr",
                "type__code",
                "municipality__number",
                "health_trust__code",
                "record_system__name",
            )
        ]
        self.population = dict(Municipality.objects.current().values_list("number", "population"))
        self.by_type: dict[str, list[Org]] = defaultdict(list)
        self.plo: dict[str, list[Org]] = defaultdict(list)
        for o in self.orgs:
            self.by_type[o.type].append(o)
            if o.type in PLO:
                self.plo[o.municipality].append(o)
        self.municipalities = sorted(self.population)
        self.solutions = dict(Solution.objects.values_list("code", "pk"))
        self.tracks: dict[tuple[str, Org], list[Event]] = {}
        self.kj_not_relevant: set[Org] = set()

    # helpers

    def between(self, a: datetime.date, b: datetime.date) -> datetime.date:
        return a + self.rng.randint(0, max((b - a).days, 0)) * DAY

    def days(self, a: int, b: int) -> datetime.timedelta:
        return self.rng.randint(a, b) * DAY

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def weighted_order(self, items: list, weight) -> list:
        """A random order in which heavier items tend to come first (Efraimidis-Spirakis)."""
        keys = {item: self.rng.random() ** (1.0 / max(weight(item), 1e-9)) for item in items}
        return sorted(items, key=lambda item: -keys[item])

    def climb(
        self,
        final: str,
        when: datetime.date,
        *,
        keep: tuple[float, float, float] = (0.5, 0.7, 0.6),
        scale: float = 1.0,
    ) -> list[Event]:
        """Steps planning → technically ready → trial → in use, ending in `final` on `when`;
        each earlier step kept with its probability in `keep`."""
        ladder = [S.PLANNING, S.TECHNICALLY_READY, S.TRIAL, S.IN_USE]
        gaps = {S.PLANNING: (30, 200), S.TECHNICALLY_READY: (14, 90), S.TRIAL: (30, 180)}
        top = ladder.index(final)
        chosen = [s for s, p in zip(ladder[:top], keep, strict=False) if self.chance(p)]
        if final == S.IN_USE and chosen and chosen[-1] == S.PLANNING:
            chosen.append(S.TECHNICALLY_READY)  # planning cannot go straight to in use
        events: list[Event] = [(final, when, "")]
        day = when
        for status in reversed(chosen):
            low, high = gaps[status]
            day = day - self.days(int(low * scale) + 1, int(high * scale) + 1)
            events.insert(0, (status, day, ""))
        return events

    def outcome(self, kind: str, a: datetime.date, b: datetime.date, reason: str = ""):
        """Where an organisation that has not taken the solution into use stands today."""
        when = self.between(a, b)
        if kind == "trial":
            return self.climb(S.TRIAL, when, keep=(0.5, 0.7, 0))
        if kind == "ready":
            return self.climb(S.TECHNICALLY_READY, when, keep=(0.6, 0, 0))
        if kind == "planning":
            return [(S.PLANNING, when, "")]
        if kind == "blocked":
            first = S.PLANNING if self.chance(0.6) else S.TECHNICALLY_READY
            return [
                (first, when - self.days(30, 240), ""),
                (S.BLOCKED, when, reason or self.rng.choice(BLOCK_REASONS)),
            ]
        if kind == "not_relevant":
            return [(S.NOT_RELEVANT, when, reason)]
        return []

    def ramp(self, u: float, points: list[tuple[datetime.date, float]]) -> datetime.date | None:
        """The day the cumulative share (linear between points) reaches u; None if never."""
        for (d0, s0), (d1, s1) in zip(points, points[1:], strict=False):
            if s0 <= u < s1:
                return d0 + round((d1 - d0).days * (u - s0) / (s1 - s0)) * DAY
        return None

    def ramp_group(self, solution, orgs, points, rest, *, keep=(0.5, 0.7, 0.6)):
        """In use on the day the ramp reaches the organisation's draw; the others get one
        of `rest`: [(weight, kind, from, to, reason)]."""
        for o in orgs:
            when = self.ramp(self.rng.random(), points)
            if when is not None:
                self.track(solution, o, self.climb(S.IN_USE, when, keep=keep))
                continue
            weights = [r[0] for r in rest]
            _w, kind, a, b, reason = self.rng.choices(rest, weights=weights)[0]
            self.track(solution, o, self.outcome(kind, a, b, reason))

    def track(self, solution: str, org: Org, events: list[Event]) -> None:
        """Store an organisation's history for a solution: never before 2021-01-01, dates
        never going back, nothing after today."""
        kept: list[Event] = []
        last = START
        for status, day, reason in events:
            day = max(day, last)
            if day > self.today:
                break
            kept.append((status, day, reason))
            last = day
        if kept:
            self.tracks[(solution, org)] = kept
        else:
            self.tracks.pop((solution, org), None)

    def in_use_since(self, solution: str, org: Org) -> datetime.date | None:
        events = self.tracks.get((solution, org))
        if events and events[-1][0] == S.IN_USE:
            return events[-1][1]
        return None

    def entries(self) -> list[services.HistoryEntry]:
        order = {code: i for i, code in enumerate(SOLUTION_ORDER)}
        rows = []
        for (solution, org), events in self.tracks.items():
            for i, (status, day, reason) in enumerate(events):
                rows.append((day, order[solution], org.orgnr, i, solution, org, status, reason))
        rows.sort(key=lambda r: r[:4])
        return [
            services.HistoryEntry(
                organisation_id=org.pk,
                solution_id=self.solutions[solution],
                to_status=status,
                effective_date=day,
                reason=reason,
            )
            for day, _o, _n, _i, solution, org, status, reason in rows
        ]

    def touched_orgs(self) -> set[Org]:
        return {org for _s, org in self.tracks}
