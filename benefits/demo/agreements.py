"""The intention agreements of 2020: regional cooperation agreements and single
municipalities signed by the 1 July deadline, a few in the autumn, some only sent or drafted."""

from __future__ import annotations

import datetime
import random

from actors.models import Municipality
from actors.numbers import MunicipalityNumbers
from actors.structure import StructureOn, population_year_for

from ..choices import AgreementStatus
from ..selectors import outside_region_municipalities
from .agreement_plan import AgreementPlan, _contact
from .pll_agreements import PLL_SENT, PLL_WAVE_2, _pll_plans

D = datetime.date
DAY = datetime.timedelta(days=1)
# "Frist for signering er 1. juli 2020."
DEADLINE = D(2020, 7, 1)
YEAR_START = D(2020, 1, 6)
YEAR_END = D(2020, 12, 18)
# Share of the population outside Helse Midt-Norge covered by the agreements signed by the
# deadline (just over "minimum halvparten"), and by all signed agreements.
SHARE_BY_DEADLINE = (0.503, 0.512)
SHARE_TOTAL = (0.535, 0.55)
SHARE_MAX = 0.558

QUOTE_CLAUSES = (
    "«Intensjonsavtalene bør inkludere gevinstrealisering, finansieringsprinsipper og "
    "prinsipper for risikodeling.»"
)
QUOTE_DEADLINE = (
    "«… intensjonserklæringer med kommuner som representerer minimum halvparten av "
    "befolkningen utenom helseregion Midt-Norge. Frist for signering er 1. juli 2020.»"
)
QUOTE_KS = (
    "«Før KS2-rapporten ferdigstilles bør det, i samarbeid med KS, inngås intensjonsavtaler "
    "med kommuner som representerer omkring halvparten av befolkningen utenfor Midt-Norge.»"
)
QUOTE_GOAL = "«Det er et mål om 100 % deltakelse fra kommunene utenfor Midt-Norge.»"

# Regional cooperation agreements: title, municipality numbers (lead first), missing clause, note.
# Numbers are those of 2020, as the plans wrote them; they are read through the same mapping
# as an import (actors.numbers on the day), so each agreement is with the municipality, which
# kept its identity when renumbered on 1.1.2024 (Vestfold 38xx → 39xx, Troms 54xx → 55xx,
# Bærum 3024 → 3201).
GROUPS = [
    (
        "Samarbeidsavtale Vestlandet",
        ["4601", "4627", "4626", "4624", "4647", "4602", "4614", "4640"],
        None,
        "Felles intensjonsavtale for kommunene i samarbeidet, signert av Bergen kommune som "
        "vertskommune.",
    ),
    (
        "Samarbeidsavtale Agder",
        ["4204", "4203", "4202", "4215", "4223", "4201", "4213", "4214"],
        None,
        "Kommunene i Agder inngikk avtalen gjennom det regionale e-helsesamarbeidet.",
    ),
    (
        "Samarbeidsavtale Vestfold",
        ["3804", "3803", "3805", "3801", "3811", "3802"],
        None,
        "Vestfold-kommunene signerte samlet etter behandling i det interkommunale rådet.",
    ),
    (
        "Samarbeidsavtale Tromsø og omland",
        ["5401", "5421", "5418", "5422"],
        "clause_risk_sharing",
        "Prinsipper for risikodeling er tatt ut av avtalen og skal avklares i en egen sak "
        "i kommunestyrene.",
    ),
]
# Large municipalities signing alone before the deadline.
SINGLES = ["0301", "1103", "3024"]
# Sent in the autumn, not signed (yet).
SENT_GROUP = (
    "Samarbeidsavtale Gjøvikregionen",
    ["3407", "3442", "3443", "3446"],
    "Avtalen er oversendt kommunene i regionrådet; behandles i kommunestyrene.",
)


def _agreement_plans(rng: random.Random) -> list[AgreementPlan]:
    by_number = {m.number: m for m in Municipality.objects.current()}  # today's, for PLL
    # 2020 in the structure of 2020, with the residents its coverage is counted with.
    structure = StructureOn(DEADLINE)
    residents = structure.population(population_year_for(DEADLINE))
    numbers_then = MunicipalityNumbers(on=DEADLINE)

    def then(number: str) -> Municipality:
        found = numbers_then.resolve(number)
        assert found.municipality, found.error
        return found.municipality

    outside = sorted(outside_region_municipalities(structure), key=lambda m: m.number)
    for m in outside:
        m.population = residents[m.pk]
    total = sum(m.population for m in outside)
    covered: set[str] = set()
    plans: list[AgreementPlan] = []

    def signed_before() -> tuple[datetime.date, datetime.date]:
        # Most close to the deadline: the spring rush before 1 July.
        span = (DEADLINE - DAY - D(2020, 2, 3)).days
        signed = D(2020, 2, 3) + round(rng.triangular(0, span, span * 0.85)) * DAY
        return max(signed - rng.randint(10, 50) * DAY, YEAR_START), signed

    for title, numbers, missing, note in GROUPS:
        sent, signed = signed_before()
        members = [then(n) for n in numbers]
        plans.append(
            AgreementPlan(
                title,
                members,
                AgreementStatus.SIGNED,
                f"{note} {QUOTE_CLAUSES}",
                _contact(rng, members[0]),
                sent=sent,
                signed=signed,
                missing_clause=missing,
                document=True,
            )
        )
        covered.update(m.number for m in members)
    for number in SINGLES:
        sent, signed = signed_before()
        m = then(number)
        plans.append(
            AgreementPlan(
                f"Intensjonsavtale {m.name} kommune",
                [m],
                AgreementStatus.SIGNED,
                QUOTE_DEADLINE if number == "0301" else QUOTE_KS,
                _contact(rng, m),
                sent=sent,
                signed=signed,
                document=number == "0301",
            )
        )
        covered.add(m.number)

    # PLL agreements later bring the rest of the Bergen area in; count them now so the
    # total stays within the band.
    pll_new = sum(residents[by_number[n].pk] for n in PLL_WAVE_2 if n not in covered)
    reserved = covered | set(PLL_WAVE_2) | set(PLL_SENT) | set(SENT_GROUP[1])
    pool = _weighted_order(
        rng, [m for m in outside if m.number not in reserved], lambda m: m.population**0.5
    )
    population = sum(residents[by_number[n].pk] for n in covered)
    by_deadline = rng.uniform(*SHARE_BY_DEADLINE) * total
    rest = []
    for m in pool:
        if population < by_deadline and population + m.population <= by_deadline + 0.006 * total:
            sent, signed = signed_before()
            plans.append(_single(rng, m, sent, signed, QUOTE_KS))
            population += m.population
        else:
            rest.append(m)
    # Autumn 2020: after the deadline, towards the goal of every municipality.
    wanted = rng.uniform(*SHARE_TOTAL) * total - pll_new
    ceiling = SHARE_MAX * total - pll_new
    late, leftover = [], []
    largest = max((wanted - population) / 3, 3000)  # a few, not one large municipality
    for m in rest:
        fits = m.population <= largest and population + m.population <= ceiling
        if population < wanted and fits and len(late) < 8:
            late.append(m)
            population += m.population
        else:
            leftover.append(m)
    late_days = sorted(rng.randint(1, (YEAR_END - DEADLINE).days) for _ in late)
    for i, (m, days) in enumerate(zip(late, late_days, strict=True)):
        signed = DEADLINE + days * DAY
        note = f"Signert etter fristen 1. juli 2020. {QUOTE_GOAL}"
        plan = _single(rng, m, signed - rng.randint(20, 80) * DAY, signed, note)
        if i == min(1, len(late) - 1):
            plan.missing_clause = "clause_financing"
            plan.notes = (
                "Signert etter fristen 1. juli 2020. Kommunen tok forbehold om "
                "finansieringsprinsippene, som forhandles videre gjennom KS."
            )
        plans.append(plan)

    # Sent, not signed; drafts.
    title, numbers, note = SENT_GROUP
    members = [then(n) for n in numbers]
    plans.append(
        AgreementPlan(
            title,
            members,
            AgreementStatus.SENT,
            note,
            _contact(rng, members[0]),
            sent=D(2020, 9, 1) + rng.randint(0, 60) * DAY,
        )
    )
    candidates = [m for m in leftover if m.population >= 4000]
    for i, m in enumerate(rng.sample(candidates, 4)):
        if i < 2:
            plan = _single(rng, m, D(2020, 8, 15) + rng.randint(0, 60) * DAY, None, "")
            plan.status = AgreementStatus.SENT
            plan.notes = "Sendt kommunen for signering; purret i november 2020."
        else:
            plan = _single(rng, m, None, None, "")
            plan.status = AgreementStatus.DRAFT
            plan.notes = "Utkast under drøfting med kommunen; risikodeling ikke avklart."
        plans.append(plan)
    plans.extend(_pll_plans(rng, by_number))
    return plans


def _single(rng, m: Municipality, sent, signed, note: str) -> AgreementPlan:
    return AgreementPlan(
        f"Intensjonsavtale {m.name} kommune",
        [m],
        AgreementStatus.SIGNED,
        note,
        _contact(rng, m),
        sent=sent,
        signed=signed,
    )


def _weighted_order(rng: random.Random, items: list, weight) -> list:
    """A random order in which heavier items tend to come first (Efraimidis-Spirakis)."""
    keys = [(rng.random() ** (1.0 / max(weight(item), 1e-9)), i) for i, item in enumerate(items)]
    return [items[i] for _k, i in sorted(keys, reverse=True)]
