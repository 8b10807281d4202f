"""Kjernejournal statuses: hospitals, legevakter and most GP offices by autumn 2021,
specialists and pharmacies later, municipal nursing and care services cohort by cohort."""

from __future__ import annotations

from actors.choices import OrganisationTypeCode as T

from ..choices import Status as S
from .constants import (
    BLOCK_REASONS,
    EPJ_VERSION,
    GP_SHARE_AUTUMN_2021,
    KJ_AUTUMN_2021,
    PLO_CONNECTED_2021,
    PLO_IN_USE_END_2022,
    PLO_LATER_COHORTS,
    PLO_STARTED_2021,
    START,
    TRAINING,
    D,
)
from .history import Event, Org, StatusPlan


class KjernejournalPlan(StatusPlan):
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
