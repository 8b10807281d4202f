"""Kritisk informasjon, dokumentdeling and datadeling statuses: limited rollout in Helse
Vest, a few producers in trial, trials in the welfare-technology programme."""

from __future__ import annotations

from actors.choices import OrganisationTypeCode as T

from ..choices import Status as S
from .constants import EPJ_VERSION, HELSE_VEST, TRUST_MODEL, D
from .history import Event, Org, StatusPlan


class SharingPlan(StatusPlan):
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
