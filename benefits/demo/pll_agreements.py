"""Intention agreements for PLL in the Bergen area, signed before each wave of the rollout
history: the trial in Bergen, the rest of the area, the outer municipalities only sent."""

from __future__ import annotations

import datetime
import random

from actors.choices import OrganisationTypeCode as T
from actors.models import Municipality, Organisation
from rollout.models import Solution
from rollout.services import today as local_today

from ..choices import AgreementStatus
from .agreement_plan import AgreementPlan, _contact

D = datetime.date
DAY = datetime.timedelta(days=1)

# PLL in the Bergen area (the rollout demo: trial in Bergen from April 2023, the rest of the
# area from September 2024).
PLL_AREA = "helse-bergen"
PLL_TRIAL = ("4601",)
PLL_WAVE_2 = ("4631", "4630", "4621", "4622", "4628", "4623", "4625", "4627", "4626", "4624")
PLL_SENT = ("4632", "4634", "4633", "4629", "4620")
QUOTE_PLL_TRIAL = (
    "«Det er satt i gang en utprøving i Bergens-området som vil være starten av en "
    "begrenset bredding av pasientens legemiddelliste.»"
)
QUOTE_PLL_BEFORE = (
    "«Forankring og inngåelse av intensjonsavtaler må gjøres i forkant av perioden med "
    "begrenset innføring.»"
)
QUOTE_PLL_ENOUGH = "«Intensjonsavtale med tilstrekkelig aktører bør være etablert.»"


def _pll_plans(rng: random.Random, by_number: dict[str, Municipality]) -> list[AgreementPlan]:
    """PLL agreements in the Bergen area: the trial in Bergen with the hospitals, then the
    rest of the area with GP offices and pharmacies as parties of their own; the outer
    municipalities only sent."""
    pll = Solution.objects.get(code="pll")
    area = Organisation.objects.filter(
        is_synthetic=True, is_active=True, health_trust__code=PLL_AREA
    ).order_by("orgnr")

    def pick(types, numbers, count: int, exclude: bool = False) -> list[Organisation]:
        qs = area.filter(type__code__in=types)
        qs = (
            qs.exclude(municipality__number__in=numbers)
            if exclude
            else qs.filter(municipality__number__in=numbers)
        )
        rows = list(qs)
        return sorted(rng.sample(rows, min(count, len(rows))), key=lambda o: o.orgnr)

    hospitals = list(area.filter(type__code=T.HOSPITAL))
    trial_signed = D(2022, 11, 1) + rng.randint(0, 120) * DAY
    wave_signed = D(2024, 3, 1) + rng.randint(0, 110) * DAY
    bergen = by_number[PLL_TRIAL[0]]
    wave = [by_number[n] for n in PLL_WAVE_2]
    outer = [by_number[n] for n in PLL_SENT]
    return [
        AgreementPlan(
            "Intensjonsavtale om utprøving av pasientens legemiddelliste i Bergen",
            [bergen],
            AgreementStatus.SIGNED,
            f"{QUOTE_PLL_TRIAL} Helse Bergens sykehus, fastlegekontor og apotek i Bergen "
            "er egne parter.",
            _contact(rng, bergen),
            organisations=hospitals
            + pick([T.GP_OFFICE], PLL_TRIAL, 8)
            + pick([T.PHARMACY], PLL_TRIAL, 5),
            solutions=[pll],
            sent=trial_signed - rng.randint(21, 60) * DAY,
            signed=trial_signed,
            document=True,
        ),
        AgreementPlan(
            "Intensjonsavtale PLL – begrenset bredding i Helse Bergens område",
            wave,
            AgreementStatus.SIGNED,
            f"{QUOTE_PLL_BEFORE} {QUOTE_PLL_ENOUGH} Fastlegekontor og apotek i kommuner "
            "som ennå ikke har signert, har sluttet seg til avtalen hver for seg.",
            _contact(rng, wave[0]),
            organisations=pick([T.GP_OFFICE], PLL_TRIAL + PLL_WAVE_2, 6, exclude=True)
            + pick([T.PHARMACY], PLL_TRIAL + PLL_WAVE_2, 4, exclude=True),
            solutions=[pll],
            sent=wave_signed - rng.randint(21, 60) * DAY,
            signed=wave_signed,
        ),
        AgreementPlan(
            "Intensjonsavtale PLL – Nordhordland og Hardanger",
            outer,
            AgreementStatus.SENT,
            "Sendt kommunene før neste bølge i området; svar ventes etter politisk behandling.",
            _contact(rng, outer[0]),
            solutions=[pll],
            sent=max(local_today() - rng.randint(20, 90) * DAY, D(2026, 1, 5)),
        ),
    ]
