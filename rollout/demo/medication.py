"""PLL, SFM and e-multidose statuses: PLL in the Bergen area with SFM in use first, SFM
from nursing and care services in 2022 on, e-multidose growing below its target."""

from __future__ import annotations

import datetime

from actors.choices import OrganisationTypeCode as T

from ..choices import Status as S
from ..choices import VendorSupport
from .constants import (
    BERGEN,
    BERGEN_AREA,
    DAY,
    EPJ_VERSION,
    MULTIDOSE_AGREEMENT,
    PLL_PLANNED,
    PLL_START,
    PLO,
    START,
    TRAINING,
    D,
)
from .history import Org, StatusPlan
from .vendors import SUPPORT


class MedicationPlan(StatusPlan):
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
