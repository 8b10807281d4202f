"""Synthetic rollout history for the demo registry (run by `seed_demo` after the registry).

From 2021-01-01 to today, deterministic for a seed, the statuses follow the planning
documents (seeds/, see DOMAIN.md):

- Kjernejournal: "Høsten 2021 var kjernejournal innført i alle sykehus, legevakter og ved
  90 prosent av fastlegekontorene"; "Per november 2021 hadde 77 kommuner startet
  utprøving/innføring av kjernejournal mens ytterligere 26 kommuner var teknisk tilkoblet.
  Ved utgangen av 2022 antas det at om lag 140 – 150 kommuner har innført kjernejournal";
  then on towards the target of 80 % of municipal nursing and care services (PLO) by 2026.
- SFM: "For pleie- og omsorgsektoren vil det innføres i 2022", then GP offices and hospitals.
- e-Multidose: growing, below the target "Multidose innført ved minst 80 prosent av
  legekontor senest i løpet av 2024".
- PLL: "Det er satt i gang en utprøving i Bergens-området som vil være starten av en
  begrenset bredding"; SFM first ("Sentral forskrivningsmodul må være ferdig etablert for
  aktørene").
- Kritisk informasjon: limited rollout in Helse Vest; dokumentdeling: a few producers in
  trial; both need kjernejournal in use. Datadeling: trials in the welfare-technology
  programme.

Every status change goes through services.status_history_load (the rules of
status_change, one history row per change); phases, areas and readiness reports through
their services. Nothing here is a statement about a real organisation.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from actors.choices import OrganisationTypeCode as T
from actors.choices import Role
from actors.models import HealthTrust, Municipality, Notification, Organisation, RecordSystem, User
from actors.scoping import SYSTEM_USER

from .. import services
from ..choices import Answer, Phase, ReportStatus, Source, VendorSupport
from ..choices import Status as S
from ..models import AreaRollout, RecordSystemSupport, RolloutStatus, Solution, StatusChange

D = datetime.date
DAY = datetime.timedelta(days=1)
START = D(2021, 1, 1)
# "Høsten 2021 var kjernejournal innført i alle sykehus, legevakter og ved 90 prosent av
# fastlegekontorene."
KJ_AUTUMN_2021 = D(2021, 9, 30)
GP_SHARE_AUTUMN_2021 = 0.90
# "Per november 2021 hadde 77 kommuner startet utprøving/innføring av kjernejournal mens
# ytterligere 26 kommuner var teknisk tilkoblet."
PLO_COUNT_DAY = D(2021, 11, 30)
PLO_STARTED_2021 = 77
PLO_CONNECTED_2021 = 26
# "Ved utgangen av 2022 antas det at om lag 140 – 150 kommuner har innført kjernejournal."
PLO_IN_USE_END_2022 = 145
# Municipalities whose PLO take kjernejournal into use in 2023, 2024, 2025 and 2026.
PLO_LATER_COHORTS = {
    "2023": (D(2023, 1, 15), D(2023, 12, 15), 50),
    "2024": (D(2024, 1, 15), D(2024, 12, 15), 45),
    "2025": (D(2025, 1, 15), D(2025, 12, 15), 40),
    "2026": (D(2026, 1, 12), D(2026, 10, 15), 25),
}
PLO = (T.MUNICIPALITY, T.HOME_CARE, T.NURSING_HOME, T.MUNICIPAL_ACUTE_BEDS)
HELSE_VEST = ("helse-bergen", "helse-stavanger", "helse-fonna", "helse-forde")
BERGEN_AREA = "helse-bergen"
BERGEN = "4601"
PLL_DECISION = D(2023, 2, 14)
PLL_START = D(2023, 4, 17)
# Other areas in planning for PLL, with the start the programme board plans for.
PLL_PLANNED = {
    "helse-stavanger": D(2027, 3, 1),
    "helse-fonna": D(2027, 9, 1),
    "helse-forde": D(2028, 1, 10),
}
NATIONAL_PHASES = {
    "kjernejournal": (Phase.NATIONAL_ROLLOUT, "Kjernejournal har vært i drift siden 2015."),
    "sfm": (Phase.NATIONAL_ROLLOUT, "SFM innføres i pleie- og omsorgssektoren fra 2022."),
    "e-multidose": (Phase.NATIONAL_ROLLOUT, "Videre innføring av e-multidose."),
    "pll": (
        Phase.LIMITED_ROLLOUT,
        "Utprøvingen i Bergensområdet er starten på begrenset bredding av PLL.",
    ),
    "kritisk-informasjon": (
        Phase.LIMITED_ROLLOUT,
        "Grensesnittet for kritisk informasjon prøves ut; begrenset bredding i Helse Vest.",
    ),
    "dokumentdeling": (
        Phase.LIMITED_ROLLOUT,
        "Utprøving av dokumentdeling hos utvalgte produsenter (helseforetak, avtalespesialister).",
    ),
    "datadeling": (
        Phase.LIMITED_ROLLOUT,
        "Utprøvinger i Nasjonalt velferdsteknologiprogram regnes som begrenset bredding.",
    ),
}
PHASE_ORDER = list(Phase.values)
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

EPJ_VERSION = "Venter på ny versjon av EPJ-systemet fra leverandør"
TRAINING = "Mangler opplæring av helsepersonell"
TRUST_MODEL = "Avventer avklaring om tillitsmodell"
CAPACITY = "Avventer kapasitet i kommunens IKT-tjeneste"
NETWORK = "Tilknytning til Helsenettet er ikke på plass"
MULTIDOSE_AGREEMENT = "Mangler avtale med multidoseapotek"
BLOCK_REASONS = [EPJ_VERSION, TRAINING, CAPACITY, NETWORK]

# solution -> product -> (support, expected date, note); demo data, not vendors' statements.
SUPPORT = {
    "pll": {
        "DIPS Arena": (VendorSupport.SUPPORTED, None, "Brukt i utprøvingen i Bergensområdet."),
        "CGM Allmenn": (VendorSupport.SUPPORTED, None, ""),
        "Infodoc Plenario": (VendorSupport.SUPPORTED, None, ""),
        "Lifecare Helse og omsorg": (VendorSupport.SUPPORTED, None, ""),
        "FarmaPro": (VendorSupport.SUPPORTED, None, ""),
        "Visma Flyt Profil": (
            VendorSupport.IN_DEVELOPMENT,
            D(2027, 4, 30),
            "Versjon med PLL-støtte er under utvikling.",
        ),
        "Pridok": (VendorSupport.IN_DEVELOPMENT, D(2027, 3, 1), ""),
        "CGM Vision": (VendorSupport.IN_DEVELOPMENT, D(2027, 9, 1), ""),
        "Helseplattformen": (
            VendorSupport.NOT_SUPPORTED,
            None,
            "Ikke planlagt før Helse Midt-Norge skal starte.",
        ),
    },
    "kritisk-informasjon": {
        "DIPS Arena": (VendorSupport.SUPPORTED, None, ""),
        "CGM Allmenn": (VendorSupport.SUPPORTED, None, ""),
        "Infodoc Plenario": (VendorSupport.IN_DEVELOPMENT, D(2027, 2, 1), ""),
        "Lifecare Helse og omsorg": (
            VendorSupport.IN_DEVELOPMENT,
            D(2027, 1, 15),
            "Pilotversjon prøves ut ved utvalgte sykehjem i Helse Vest.",
        ),
        "Visma Flyt Profil": (VendorSupport.NOT_SUPPORTED, None, ""),
    },
    "dokumentdeling": {
        "DIPS Arena": (VendorSupport.SUPPORTED, None, ""),
        "CGM Vision": (VendorSupport.IN_DEVELOPMENT, D(2027, 6, 1), ""),
        "Infodoc Plenario": (VendorSupport.SUPPORTED, None, ""),
    },
}

SYSTEM_USERNAMES = ("demo-system-koordinator", "demo-system-kommunekontakt")


@dataclass(frozen=True)
class Org:
    pk: int
    orgnr: str
    type: str
    municipality: str
    trust: str
    system: str


Event = tuple[str, datetime.date, str]  # status, date, reason


@dataclass
class Summary:
    changes: int
    organisations: int
    reports: int
    areas: int
    phases: int


def already_seeded() -> bool:
    return StatusChange.objects.filter(
        source=Source.SYSTEM, organisation__is_synthetic=True
    ).exists()


def seed_rollout(seed: int) -> Summary | None:
    """Write the rollout demo data once; None if it is already there."""
    if already_seeded():
        return None
    today = services.today()
    with transaction.atomic():
        coordinator, contact = _system_users()
        _record_system_support()
        phases = _national_phases(coordinator)
        areas = _area_rollouts()
        plan = Plan(seed, today)
        plan.build()
        changes = services.status_history_load(
            user=SYSTEM_USER, changes=plan.entries(), source=Source.SYSTEM
        )
        reports = _readiness_reports(seed, contact, coordinator)
        # The demo-system users acted only to write these records; nobody can sign in as them.
        users = [coordinator.pk, contact.pk]
        Notification.objects.filter(user__in=users).delete()
        User.objects.filter(pk__in=users).update(is_active=False)
    return Summary(changes, len(plan.touched_orgs()), reports, areas, phases)


# --- the status plan ------------------------------------------------------------------


class Plan:
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
        self.population = dict(Municipality.objects.values_list("number", "population"))
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

    # the plan

    def build(self) -> None:
        self.kjernejournal()
        pll_sfm_first = self.pll()
        self.sfm(pll_sfm_first)
        self.e_multidose()
        self.critical_information()
        self.document_sharing()
        self.data_sharing()

    def kjernejournal(self) -> None:
        kj = "kjernejournal"
        # All hospitals and legevakter in use by autumn 2021.
        for o in self.by_type[T.HOSPITAL] + self.by_type[T.EMERGENCY_PRIMARY_CARE]:
            when = self.between(D(2021, 1, 4), KJ_AUTUMN_2021)
            self.track(kj, o, self.climb(S.IN_USE, when, keep=(0.1, 0.3, 0.2), scale=0.3))
        # 90 % of GP offices by autumn 2021, most of the rest later.
        gps = list(self.by_type[T.GP_OFFICE])
        self.rng.shuffle(gps)
        early = round(GP_SHARE_AUTUMN_2021 * len(gps))
        for o in gps[:early]:
            when = self.between(D(2021, 1, 4), KJ_AUTUMN_2021)
            events = self.climb(S.IN_USE, when, keep=(0.1, 0.3, 0.3), scale=0.4)
            if self.chance(0.004):
                events.append(
                    (
                        S.STOPPED,
                        self.between(D(2023, 1, 1), D(2025, 6, 30)),
                        "Legekontoret er slått sammen med et annet legekontor",
                    )
                )
            self.track(kj, o, events)
        self.ramp_group(
            kj,
            gps[early:],
            [(D(2021, 10, 15), 0.0), (D(2022, 12, 31), 0.45), (D(2025, 6, 30), 0.72)],
            [
                (8, "trial", D(2025, 9, 1), D(2026, 10, 31), ""),
                (6, "ready", D(2025, 6, 1), D(2026, 10, 31), ""),
                (6, "planning", D(2024, 1, 1), D(2026, 10, 31), ""),
                (5, "blocked", D(2023, 1, 1), D(2026, 10, 31), EPJ_VERSION),
                (3, "blocked", D(2023, 1, 1), D(2026, 10, 31), TRAINING),
            ],
        )
        # Contracted specialists and pharmacies: increasingly in use.
        later = [
            (5, "ready", D(2025, 1, 1), D(2026, 10, 31), ""),
            (8, "planning", D(2023, 1, 1), D(2026, 10, 31), ""),
            (3, "blocked", D(2022, 6, 1), D(2026, 10, 31), ""),
        ]
        self.ramp_group(
            kj,
            self.by_type[T.SPECIALIST],
            [
                (START, 0.0),
                (D(2021, 12, 31), 0.25),
                (D(2022, 12, 31), 0.38),
                (D(2023, 12, 31), 0.50),
                (D(2024, 12, 31), 0.60),
                (D(2025, 12, 31), 0.68),
                (D(2026, 10, 31), 0.73),
            ],
            [
                *later,
                (2, "none", START, START, ""),
                (
                    2,
                    "not_relevant",
                    D(2022, 1, 1),
                    D(2025, 12, 31),
                    "Praksisen har ikke pasientbehandling (kun sakkyndighetsarbeid)",
                ),
            ],
        )
        self.ramp_group(
            kj,
            self.by_type[T.PHARMACY],
            [
                (START, 0.0),
                (D(2021, 12, 31), 0.45),
                (D(2022, 12, 31), 0.60),
                (D(2023, 12, 31), 0.72),
                (D(2024, 12, 31), 0.82),
                (D(2025, 12, 31), 0.88),
                (D(2026, 10, 31), 0.91),
            ],
            later,
        )
        self._kjernejournal_plo()

    def _kjernejournal_plo(self) -> None:
        """Municipal nursing and care services (and ØHD/KAD), municipality by municipality."""
        order = self.weighted_order(self.municipalities, lambda m: self.population[m] ** 0.5)
        cohorts: list[tuple[str, int]] = [
            ("started", PLO_STARTED_2021),
            ("connected", PLO_CONNECTED_2021),
            ("2022", PLO_IN_USE_END_2022 - PLO_STARTED_2021 - PLO_CONNECTED_2021),
            *[(year, n) for year, (_a, _b, n) in PLO_LATER_COHORTS.items()],
        ]
        rank = 0
        for name, size in cohorts:
            for m in order[rank : rank + size]:
                self._plo_municipality(m, name)
            rank += size
        rest = order[rank:]
        # Not yet in use today: trial, technically ready, planning, blocked, not started.
        shares = [("trial", 12), ("ready", 10), ("planning", 14), ("blocked", 7)]
        i = 0
        for kind, n in shares:
            for m in rest[i : i + n]:
                self._plo_municipality(m, kind)
            i += n
        for m in rest[i:]:
            for o in self.plo[m]:
                if o.type == T.MUNICIPAL_ACUTE_BEDS and self.chance(0.5):
                    self._kj_not_relevant(o)

    def _kj_not_relevant(self, o: Org) -> None:
        self.kj_not_relevant.add(o)
        reason = "ØHD-sengene driftes av nabokommunen i et interkommunalt samarbeid"
        self.track(
            "kjernejournal",
            o,
            [(S.NOT_RELEVANT, self.between(D(2022, 1, 1), D(2024, 6, 30)), reason)],
        )

    def _plo_municipality(self, m: str, cohort: str) -> None:
        kj = "kjernejournal"
        r = self.rng
        plan = ready = trial = use = None
        if cohort == "started":  # in trial by November 2021, in use by the end of 2022
            trial = self.between(D(2021, 1, 11), D(2021, 11, 15))
            ready = trial - self.days(10, 60)
            use = min(trial + self.days(45, 300), D(2022, 12, 15))
        elif cohort == "connected":  # technically connected by November 2021
            ready = self.between(D(2021, 5, 1), D(2021, 11, 15))
            trial = self.between(D(2022, 1, 10), D(2022, 6, 30))
            use = trial + self.days(30, 150)
        elif cohort == "2022":
            ready = self.between(D(2022, 1, 10), D(2022, 8, 31))
            trial = ready + self.days(14, 60) if r.random() < 0.7 else None
            use = min((trial or ready) + self.days(30, 90), D(2022, 12, 15))
        elif cohort in PLO_LATER_COHORTS:
            a, b, _n = PLO_LATER_COHORTS[cohort]
            use = self.between(a, b)
            trial = use - self.days(30, 150) if r.random() < 0.7 else None
            ready = (trial or use) - self.days(14, 90)
        elif cohort == "trial":
            trial = self.between(D(2026, 2, 1), D(2026, 10, 31))
            ready = trial - self.days(14, 90)
        elif cohort == "ready":
            ready = self.between(D(2025, 6, 1), D(2026, 10, 31))
        if ready is not None and r.random() < 0.6:
            plan = ready - self.days(30, 200)
        if cohort == "planning":
            plan = self.between(D(2024, 1, 1), D(2026, 10, 31))
        milestones: list[Event] = [
            (status, day, "")
            for status, day in (
                (S.PLANNING, plan),
                (S.TECHNICALLY_READY, ready),
                (S.TRIAL, trial),
                (S.IN_USE, use),
            )
            if day is not None
        ]
        if cohort == "blocked":
            day = self.between(D(2024, 1, 1), D(2026, 9, 30))
            reason = r.choice(BLOCK_REASONS)
            milestones = [(S.PLANNING, day - self.days(60, 300), ""), (S.BLOCKED, day, reason)]
        in_use_cohort = cohort in PLO_LATER_COHORTS
        for o in self.plo[m]:
            offset = self.days(0, 14)
            events = [(s, d + offset, reason) for s, d, reason in milestones]
            if in_use_cohort and o.type == T.NURSING_HOME and self.chance(0.05):
                # One nursing home lags behind the rest of the municipality.
                before = [e for e in events if e[0] in (S.PLANNING, S.TECHNICALLY_READY)]
                blocked_on = events[-1][1] - self.days(0, 30)
                events = [*before, (S.BLOCKED, blocked_on, TRAINING)]
                if self.chance(0.5):
                    events.append((S.IN_USE, blocked_on + self.days(90, 300), ""))
            elif cohort in ("started", "connected") and o.type == T.NURSING_HOME:
                if self.chance(0.02):
                    events.append(
                        (
                            S.STOPPED,
                            self.between(D(2024, 1, 1), D(2025, 12, 31)),
                            "Sykehjemmet er midlertidig stengt for rehabilitering",
                        )
                    )
            elif cohort == "ready" and o.type == T.MUNICIPAL_ACUTE_BEDS and self.chance(0.3):
                self._kj_not_relevant(o)
                continue
            self.track(kj, o, events)

    def pll(self) -> dict[Org, datetime.date]:
        """PLL statuses in the Bergen area (the only area in limited rollout) and planning
        in the next areas. Returns {organisation: day SFM must be in use by}."""
        pll = "pll"
        types = {
            T.GP_OFFICE,
            T.SPECIALIST,
            T.HOSPITAL,
            T.EMERGENCY_PRIMARY_CARE,
            T.NURSING_HOME,
            T.HOME_CARE,
            T.MUNICIPAL_ACUTE_BEDS,
            T.PHARMACY,
        }
        sfm_types = {T.GP_OFFICE, T.HOSPITAL, *PLO}
        supported = {
            name
            for name, (support, _d, _n) in SUPPORT["pll"].items()
            if support == VendorSupport.SUPPORTED
        }
        sfm_by: dict[Org, datetime.date] = {}
        for o in self.orgs:
            if o.type not in types or o.trust != BERGEN_AREA or o in self.kj_not_relevant:
                continue
            first_wave = o.municipality == BERGEN or o.type == T.HOSPITAL
            if o.system not in supported:
                if o.type == T.SPECIALIST and not self.chance(0.3):
                    continue
                day = self.between(PLL_START, D(2025, 12, 31))
                events = [(S.PLANNING, day, "")]
                if self.chance(0.4):
                    events.append((S.BLOCKED, day + self.days(30, 300), EPJ_VERSION))
                self.track(pll, o, events)
                continue
            if first_wave:
                window = (PLL_START, D(2023, 10, 31))
                p_trial, p_use, p_ready = 0.85, 0.75, 0.7
            else:
                window = (D(2024, 9, 2), D(2025, 12, 19))
                p_trial, p_use, p_ready = 0.55, 0.6, 0.55
            if o.type == T.SPECIALIST:
                p_trial = 0.35 if not first_wave else 0.5
            if o.type == T.HOSPITAL:
                p_trial = 1.0
            if self.chance(p_trial):
                trial = self.between(*window)
                events = self.climb(S.TRIAL, trial, keep=(0.7, 0.6, 0), scale=0.5)
                if self.chance(p_use):
                    events.append((S.IN_USE, trial + self.days(150, 420), ""))
                if o.type in sfm_types:
                    sfm_by[o] = trial
            elif self.chance(p_ready):
                events = self.climb(
                    S.TECHNICALLY_READY, self.between(window[0], D(2026, 9, 30)), keep=(0.7, 0, 0)
                )
            else:
                day = self.between(window[0], D(2026, 9, 30))
                events = [(S.PLANNING, day, "")]
                if self.chance(0.2):
                    events.append((S.BLOCKED, day + self.days(30, 200), TRAINING))
            self.track(pll, o, events)
        # The next areas plan: their hospitals and home care services are in planning.
        for o in self.orgs:
            if o.trust in PLL_PLANNED and o.type in (T.HOSPITAL, T.HOME_CARE):
                self.track(pll, o, [(S.PLANNING, self.between(D(2026, 1, 5), D(2026, 9, 30)), "")])
        return sfm_by

    def sfm(self, needed_by: dict[Org, datetime.date]) -> None:
        """PLO first from 2022 (municipality by municipality), then GP offices and
        hospitals; where PLL is tried, SFM is in use first."""
        sfm = "sfm"
        order = self.weighted_order(self.municipalities, lambda m: self.population[m] ** 0.3)
        points = [
            (D(2022, 3, 1), 0.0),
            (D(2022, 12, 31), 0.10),
            (D(2023, 12, 31), 0.28),
            (D(2024, 12, 31), 0.45),
            (D(2025, 12, 31), 0.60),
            (D(2026, 10, 31), 0.68),
        ]
        for rank, m in enumerate(order):
            u = (rank + 0.5) / len(order)
            use = self.ramp(u, points)
            if use is not None:
                milestones = self.climb(S.IN_USE, use, keep=(0.6, 0.8, 0.5), scale=0.6)
            else:
                kind = self.rng.choices(
                    ["trial", "ready", "planning", "blocked", "none"], [10, 15, 40, 10, 25]
                )[0]
                milestones = self.outcome(kind, D(2025, 1, 1), D(2026, 10, 31), EPJ_VERSION)
            for o in self.plo[m]:
                if o in self.kj_not_relevant:
                    self.track(
                        sfm,
                        o,
                        [
                            (
                                S.NOT_RELEVANT,
                                self.between(D(2022, 3, 1), D(2024, 6, 30)),
                                "ØHD-sengene driftes av nabokommunen; forskrivning skjer der",
                            )
                        ],
                    )
                    continue
                offset = self.days(0, 30)
                self.track(sfm, o, [(s, d + offset, reason) for s, d, reason in milestones])
        later = [
            (3, "ready", D(2025, 1, 1), D(2026, 10, 31), ""),
            (6, "planning", D(2024, 1, 1), D(2026, 10, 31), ""),
            (1, "blocked", D(2024, 1, 1), D(2026, 10, 31), EPJ_VERSION),
            (8, "none", START, START, ""),
        ]
        self.ramp_group(
            sfm,
            self.by_type[T.GP_OFFICE],
            [
                (D(2023, 1, 1), 0.0),
                (D(2023, 12, 31), 0.08),
                (D(2024, 12, 31), 0.20),
                (D(2025, 12, 31), 0.32),
                (D(2026, 10, 31), 0.40),
            ],
            later,
        )
        self.ramp_group(
            sfm,
            self.by_type[T.HOSPITAL],
            [
                (D(2023, 1, 1), 0.0),
                (D(2023, 12, 31), 0.10),
                (D(2024, 12, 31), 0.25),
                (D(2025, 12, 31), 0.40),
                (D(2026, 10, 31), 0.50),
            ],
            later,
        )
        # Where PLL is tried, SFM came first.
        for o, day in needed_by.items():
            since = self.in_use_since(sfm, o)
            if since is None or since > day - 14 * DAY:
                earliest = D(2022, 3, 1) if o.type in PLO else D(2022, 9, 1)
                use = max(day - self.days(20, 150), earliest)
                self.track(sfm, o, self.climb(S.IN_USE, use, keep=(0.6, 0.8, 0.4), scale=0.4))

    def e_multidose(self) -> None:
        emd = "e-multidose"
        self.ramp_group(
            emd,
            self.by_type[T.GP_OFFICE],
            [
                (START, 0.0),
                (D(2021, 12, 31), 0.18),
                (D(2022, 12, 31), 0.32),
                (D(2023, 12, 31), 0.45),
                (D(2024, 12, 31), 0.58),
                (D(2025, 12, 31), 0.66),
                (D(2026, 10, 31), 0.70),
            ],
            [
                (4, "ready", D(2025, 1, 1), D(2026, 10, 31), ""),
                (8, "planning", D(2023, 1, 1), D(2026, 10, 31), ""),
                (3, "blocked", D(2022, 6, 1), D(2026, 10, 31), MULTIDOSE_AGREEMENT),
                (2, "blocked", D(2022, 6, 1), D(2026, 10, 31), EPJ_VERSION),
                (6, "none", START, START, ""),
            ],
        )
        self.ramp_group(
            emd,
            self.by_type[T.PHARMACY],
            [
                (START, 0.0),
                (D(2021, 12, 31), 0.15),
                (D(2022, 12, 31), 0.25),
                (D(2023, 12, 31), 0.33),
                (D(2024, 12, 31), 0.40),
                (D(2025, 12, 31), 0.45),
                (D(2026, 10, 31), 0.48),
            ],
            [
                (
                    4,
                    "not_relevant",
                    D(2021, 3, 1),
                    D(2025, 12, 31),
                    "Apoteket leverer ikke multidose",
                ),
                (3, "planning", D(2023, 1, 1), D(2026, 10, 31), ""),
                (3, "none", START, START, ""),
            ],
        )
        order = self.weighted_order(self.municipalities, lambda m: self.population[m] ** 0.4)
        points = [
            (START, 0.0),
            (D(2021, 12, 31), 0.10),
            (D(2022, 12, 31), 0.22),
            (D(2023, 12, 31), 0.35),
            (D(2024, 12, 31), 0.46),
            (D(2025, 12, 31), 0.55),
            (D(2026, 10, 31), 0.60),
        ]
        for rank, m in enumerate(order):
            use = self.ramp((rank + 0.5) / len(order), points)
            if use is not None:
                milestones = self.climb(S.IN_USE, use, keep=(0.5, 0.7, 0.5), scale=0.5)
            else:
                kind = self.rng.choices(["ready", "planning", "blocked", "none"], [10, 30, 10, 50])[
                    0
                ]
                milestones = self.outcome(kind, D(2024, 1, 1), D(2026, 10, 31), MULTIDOSE_AGREEMENT)
            for o in self.plo[m]:
                if o.type == T.MUNICIPAL_ACUTE_BEDS:
                    continue
                offset = self.days(0, 30)
                self.track(emd, o, [(s, d + offset, reason) for s, d, reason in milestones])

    def critical_information(self) -> None:
        """Limited rollout in Helse Vest; kjernejournal is in use first."""
        ki = "kritisk-informasjon"
        vest = [o for o in self.orgs if o.trust in HELSE_VEST]

        def kj_ok(o: Org, events: list[Event]) -> bool:
            """Kjernejournal in use at the organisation before it tries or uses this."""
            since = self.in_use_since("kjernejournal", o)
            first = next((d for s, d, _r in events if s in (S.TRIAL, S.IN_USE)), None)
            return first is None or (since is not None and since <= first)

        hospitals = [o for o in vest if o.type == T.HOSPITAL]
        for i, o in enumerate(self.rng.sample(hospitals, len(hospitals))):
            if i < len(hospitals) - 2:
                trial = self.between(D(2022, 3, 1), D(2022, 12, 15))
                events = self.climb(S.TRIAL, trial, keep=(0.8, 0.6, 0), scale=0.4)
                if i < len(hospitals) - 4:
                    events.append((S.IN_USE, trial + self.days(200, 500), ""))
            else:
                events = [(S.PLANNING, self.between(D(2023, 1, 1), D(2024, 6, 30)), "")]
            if kj_ok(o, events):
                self.track(ki, o, events)
        for o in vest:
            if o.type == T.GP_OFFICE:
                trial = self.between(D(2023, 3, 1), D(2025, 6, 30))
                events = self.climb(S.TRIAL, trial, keep=(0.5, 0.5, 0), scale=0.4)
                if self.chance(0.5):
                    events.append((S.IN_USE, trial + self.days(120, 400), ""))
                if o.system == "CGM Allmenn" and self.chance(0.18) and kj_ok(o, events):
                    self.track(ki, o, events)
                elif o.system == "Infodoc Plenario" and self.chance(0.1):
                    day = self.between(D(2023, 6, 1), D(2025, 12, 31))
                    self.track(
                        ki,
                        o,
                        [(S.PLANNING, day, ""), (S.BLOCKED, day + self.days(30, 200), EPJ_VERSION)],
                    )
            elif o.type == T.NURSING_HOME:
                trial = self.between(D(2024, 3, 1), D(2026, 6, 30))
                events = self.climb(S.TRIAL, trial, keep=(0.6, 0.5, 0), scale=0.4)
                if (
                    o.system == "Lifecare Helse og omsorg"
                    and self.chance(0.15)
                    and kj_ok(o, events)
                ):
                    self.track(ki, o, events)
            elif o.type == T.SPECIALIST and self.chance(0.03):
                self.track(ki, o, [(S.PLANNING, self.between(D(2024, 1, 1), D(2026, 9, 30)), "")])

    def document_sharing(self) -> None:
        """A few producers in trial; kjernejournal is in use first."""
        dd = "dokumentdeling"
        hospitals = self.rng.sample(self.by_type[T.HOSPITAL], 6)
        for i, o in enumerate(hospitals):
            since = self.in_use_since("kjernejournal", o)
            if since is None:
                continue
            if i < 4:
                trial = max(self.between(D(2022, 6, 1), D(2023, 6, 30)), since)
                events = self.climb(S.TRIAL, trial, keep=(0.8, 0.5, 0), scale=0.4)
                if i == 0:
                    events.append((S.IN_USE, trial + self.days(300, 500), ""))
            else:
                day = self.between(D(2023, 1, 1), D(2024, 3, 31))
                events = [(S.PLANNING, day, ""), (S.BLOCKED, day + self.days(60, 240), TRUST_MODEL)]
            self.track(dd, o, events)
        specialists = [
            o
            for o in self.by_type[T.SPECIALIST]
            if (s := self.in_use_since("kjernejournal", o)) and s <= D(2023, 1, 1)
        ]
        for i, o in enumerate(self.rng.sample(specialists, min(12, len(specialists)))):
            trial = self.between(D(2023, 1, 2), D(2025, 10, 31))
            events = self.climb(S.TRIAL, trial, keep=(0.6, 0.5, 0), scale=0.4)
            if i == 0:
                events.append(
                    (
                        S.STOPPED,
                        trial + self.days(60, 200),
                        "Utprøvingen ble stanset etter feil i dokumentvisningen; "
                        "ny utprøving planlegges",
                    )
                )
            self.track(dd, o, events)
        for o in self.rng.sample(self.by_type[T.EMERGENCY_PRIMARY_CARE], 3):
            self.track(dd, o, [(S.PLANNING, self.between(D(2025, 1, 1), D(2026, 9, 30)), "")])

    def data_sharing(self) -> None:
        """Trials of digital home follow-up in the welfare-technology programme."""
        ds = "datadeling"
        home_care = self.rng.sample(self.by_type[T.HOME_CARE], 20)
        for i, o in enumerate(home_care):
            trial = self.between(D(2021, 3, 1), D(2024, 12, 31))
            events = self.climb(S.TRIAL, trial, keep=(0.6, 0.3, 0), scale=0.5)
            if i < 8:
                events.append((S.IN_USE, max(trial, D(2025, 1, 1)) + self.days(0, 500), ""))
            elif i < 10:
                events.append(
                    (
                        S.STOPPED,
                        trial + self.days(180, 600),
                        "Utprøvingen i velferdsteknologiprogrammet ble avsluttet uten videreføring",
                    )
                )
            self.track(ds, o, events)
        for o in self.rng.sample(self.by_type[T.GP_OFFICE], 10):
            trial = self.between(D(2023, 1, 2), D(2025, 12, 31))
            self.track(ds, o, self.climb(S.TRIAL, trial, keep=(0.5, 0.3, 0), scale=0.5))


# --- users, phases, areas, vendor support, readiness reports ----------------------------


def _system_users() -> tuple[User, User]:
    """A national coordinator and a municipality contact that stand for "the system" where a
    service needs a real user (national phases, readiness reports). Active only inside the
    seeding transaction; they have no password."""
    users = []
    for username, role, last in (
        (SYSTEM_USERNAMES[0], Role.COORDINATOR, "koordinator"),
        (SYSTEM_USERNAMES[1], Role.MUNICIPALITY_CONTACT, "kommunekontakt"),
    ):
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = "Demodata", f"({last})"
        user.role, user.is_active = role, True
        user.national_scope = role == Role.COORDINATOR
        user.set_unusable_password()
        user.save()
        users.append(user)
    return users[0], users[1]


def _record_system_support() -> None:
    systems = {s.name: s for s in RecordSystem.objects.all()}
    solutions = {s.code: s for s in Solution.objects.all()}
    for code, rows in SUPPORT.items():
        for name, (support, expected, note) in rows.items():
            if name in systems:
                RecordSystemSupport.objects.update_or_create(
                    solution=solutions[code],
                    record_system=systems[name],
                    defaults={"support": support, "expected_date": expected, "note": note},
                )


def _national_phases(coordinator: User) -> int:
    changes = 0
    for code, (target, note) in NATIONAL_PHASES.items():
        solution = Solution.objects.get(code=code)
        for phase in PHASE_ORDER[PHASE_ORDER.index(solution.national_phase) + 1 :]:
            if PHASE_ORDER.index(phase) > PHASE_ORDER.index(target):
                break
            solution = services.solution_phase_change(
                user=coordinator,
                solution=solution,
                to_phase=phase,
                note=f"Demodata: {note}" if phase == target else "Demodata.",
                expected_version=solution.version,
            )
            changes += 1
    return changes


def _area_rollouts() -> int:
    """PLL in all 19 areas: limited rollout in Helse Bergen, the next three planned."""
    pll = Solution.objects.get(code="pll")
    existing = set(
        AreaRollout.objects.filter(solution=pll).values_list("health_trust__code", flat=True)
    )
    written = 0
    for trust in HealthTrust.objects.order_by("code"):
        if trust.code in existing:
            continue
        if trust.code == BERGEN_AREA:
            area = services.area_rollout_update(
                user=SYSTEM_USER,
                solution=pll,
                health_trust=trust,
                expected_version=0,
                phase=Phase.PLANNING,
                planned_start=D(2023, 4, 1),
            )
            services.area_rollout_update(
                user=SYSTEM_USER,
                solution=pll,
                health_trust=trust,
                expected_version=area.version,
                phase=Phase.LIMITED_ROLLOUT,
                decision_date=PLL_DECISION,
                decision_reference="PS-sak 03/2023",
                decision_note=(
                    "Programstyret vedtok oppstart av begrenset bredding av pasientens "
                    "legemiddelliste i Helse Bergens opptaksområde, videreført fra "
                    "utprøvingen i Bergen kommune. SFM er etablert hos aktørene som starter."
                ),
                actual_start=PLL_START,
            )
        else:
            services.area_rollout_update(
                user=SYSTEM_USER,
                solution=pll,
                health_trust=trust,
                expected_version=0,
                phase=Phase.PLANNING,
                planned_start=PLL_PLANNED.get(trust.code),
            )
        written += 1
    return written


def _readiness_reports(seed: int, contact: User, coordinator: User) -> int:
    """PLL readiness reports from municipalities in the Bergen area, and kritisk
    informasjon from Helse Vest, in every state, through the report services."""
    pll = Solution.objects.get(code="pll")
    ki = Solution.objects.get(code="kritisk-informasjon")

    def by_size(trust_code: str) -> list[Municipality]:
        return list(
            Municipality.objects.filter(catchments__health_trust__code=trust_code).order_by(
                "-population", "number"
            )
        )

    # Bergen started with the trial; the next municipalities of the area report readiness.
    bergen_area = [m for m in by_size(BERGEN_AREA) if m.number != BERGEN]
    plan = [
        (pll, bergen_area[0], ReportStatus.APPROVED),
        (pll, bergen_area[1], ReportStatus.APPROVED),
        (pll, bergen_area[2], ReportStatus.SUBMITTED),
        (pll, bergen_area[3], ReportStatus.RETURNED),
        (pll, bergen_area[4], ReportStatus.DRAFT),
        (pll, bergen_area[6], ReportStatus.DRAFT),
        (ki, by_size("helse-stavanger")[0], ReportStatus.APPROVED),
        (ki, by_size("helse-fonna")[0], ReportStatus.SUBMITTED),
    ]
    contact.municipalities.set([m for _s, m, _st in plan])
    rng = random.Random(seed * 7919 + 17)
    for solution, municipality, state in plan:
        report = services.report_create(user=contact, solution=solution, municipality=municipality)
        answers = _answers(report, rng)
        if state == ReportStatus.DRAFT:
            answers = dict(list(answers.items())[: len(answers) * 2 // 5])
        report = services.report_save_answers(
            user=contact, report_id=report.pk, expected_version=report.version, answers=answers
        )
        if state == ReportStatus.DRAFT:
            continue
        report = services.report_submit(
            user=contact, report_id=report.pk, expected_version=report.version
        )
        if state == ReportStatus.APPROVED:
            services.report_review(
                user=coordinator, report_id=report.pk, expected_version=report.version, approve=True
            )
        elif state == ReportStatus.RETURNED:
            services.report_review(
                user=coordinator,
                report_id=report.pk,
                expected_version=report.version,
                approve=False,
                comment=(
                    "Forventet dato for opplæring i hjemmetjenesten virker urealistisk, og "
                    "flere svar om EPJ-støtte mangler kommentar. Avklar med leverandøren og "
                    "send inn på nytt."
                ),
            )
    return len(plan)


def _answers(report, rng: random.Random) -> dict[int, dict]:
    """Answers that agree with the statuses and vendor support recorded for the
    organisations (every 'not ready' with the date it is expected)."""
    solution = report.solution
    rows = list(
        report.answers.select_related("prerequisite", "organisation__type").order_by(
            "prerequisite__sort_order", "organisation__name", "pk"
        )
    )
    org_ids = {a.organisation_id for a in rows if a.organisation_id}
    status = {
        (r.organisation_id, r.solution.code): r.status
        for r in RolloutStatus.objects.filter(organisation__in=org_ids).select_related("solution")
    }
    support = {r.record_system_id: r for r in RecordSystemSupport.objects.filter(solution=solution)}
    sfm_types = set(
        Solution.objects.get(code="sfm").organisation_types.values_list("pk", flat=True)
    )
    soon = services.today() + datetime.timedelta(days=rng.randint(60, 240))

    def ready(ok: bool, comment: str = "", expected=None) -> dict:
        if ok:
            return {"answer": Answer.READY, "comment": comment, "expected_date": None}
        return {"answer": Answer.NOT_READY, "comment": comment, "expected_date": expected or soon}

    answers = {}
    for a in rows:
        text = a.prerequisite.text
        o = a.organisation
        if o is None:  # about the area
            answers[a.pk] = ready(True, "Avklart i områdets innføringsprosjekt.")
            continue
        own = status.get((o.pk, solution.code), S.NOT_STARTED)
        vendor = support.get(o.record_system_id)
        if text.startswith("SFM"):
            if o.type_id not in sfm_types:
                answers[a.pk] = {
                    "answer": Answer.NOT_RELEVANT,
                    "comment": "",
                    "expected_date": None,
                }
            else:
                answers[a.pk] = ready(status.get((o.pk, "sfm")) == S.IN_USE)
        elif text.startswith("Kjernejournal"):
            answers[a.pk] = ready(status.get((o.pk, "kjernejournal")) == S.IN_USE)
        elif "støtter" in text or text.startswith("Leverandøren"):
            ok = vendor is not None and vendor.support == VendorSupport.SUPPORTED
            comment = "" if ok else EPJ_VERSION
            answers[a.pk] = ready(ok, comment, vendor.expected_date if vendor else None)
        else:  # technically and organisationally ready / ready to start together
            ok = own in (S.TECHNICALLY_READY, S.TRIAL, S.IN_USE)
            answers[a.pk] = ready(ok, "" if ok else TRAINING)
    return answers
