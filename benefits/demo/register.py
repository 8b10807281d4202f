"""The benefit register: one or more benefits per benefit goal, with indicator, unit,
direction and target, and how their demo reports are made up (BenefitSpec)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from actors.choices import OrganisationTypeCode as T
from rollout.choices import Status
from rollout.models import Solution

from ..choices import Direction
from ..models import Benefit, BenefitGoal
from .pll_agreements import PLL_AREA

D = datetime.date


@dataclass(frozen=True)
class BenefitSpec:
    goal: str
    name: str
    description: str
    indicator: str
    unit: str
    direction: str
    solutions: tuple[str, ...]
    owner: str
    baseline_required: bool
    target: str
    target_date: datetime.date
    # How reports are made up: baseline mean and spread, the change reached after
    # `ramp_years` (relative for "lower", points for "higher"), measured over `period_days`.
    base: tuple[float, float]
    change: float
    ramp_years: float
    period_days: int
    decimals: int
    method: str
    sample: tuple[int, int] = (25, 60)
    reporters: tuple = ()
    municipalities: int = 0


TIME = BenefitSpec(
    goal="frigjort-tid",
    name="Redusert tid brukt på å innhente legemiddelopplysninger",
    description=(
        "Effektmål 2 innebærer blant annet en reduksjon av «tidsbruk knyttet til innhenting og "
        "deling av pasientopplysninger og annen nødvendig informasjon i helse- og "
        "omsorgtjenesten». Måles som tid helsepersonell bruker på å innhente og avstemme "
        "legemiddelopplysninger når en pasient legges inn."
    ),
    indicator="Tid brukt på å innhente legemiddelopplysninger per pasientinnleggelse",
    unit="minutter",
    direction=Direction.LOWER,
    solutions=("kjernejournal", "pll"),
    owner="Virksomhetene (kommunene og helseforetakene)",
    baseline_required=True,
    target="15",
    target_date=D(2028, 12, 31),
    base=(26.0, 5.0),
    change=-0.38,
    ramp_years=2.0,
    period_days=28,
    decimals=1,
    method="Tidsstudie: registrering av tidsbruk ved {n} innleggelser over fire uker",
    reporters=(
        ((T.NURSING_HOME,), (Status.IN_USE,), None, 16),
        ((T.HOME_CARE,), (Status.IN_USE,), None, 8),
        ((T.MUNICIPAL_ACUTE_BEDS,), (Status.IN_USE,), None, 5),
        ((T.HOSPITAL,), (Status.IN_USE,), None, 5),
        ((T.NURSING_HOME, T.HOSPITAL), (Status.TRIAL, Status.IN_USE), PLL_AREA, 6),
    ),
)
DEVIATIONS = BenefitSpec(
    goal="faerre-uonskede-hendelser",
    name="Færre legemiddelavvik ved overføring",
    description=(
        "Effektmål 1 innebærer blant annet at «sannsynligheten for feil og uheldige hendelser "
        "reduseres». Legemiddelavvik når pasienten overføres mellom sykehus, sykehjem, "
        "hjemmetjeneste og fastlege, registrert i virksomhetens avvikssystem."
    ),
    indicator="Registrerte legemiddelavvik ved overføring mellom tjenester",
    unit="avvik per 1000 overføringer",
    direction=Direction.LOWER,
    solutions=("pll",),
    owner="Virksomhetene i innføringsområdet",
    baseline_required=True,
    target="6",
    target_date=D(2028, 12, 31),
    base=(11.5, 2.5),
    change=-0.42,
    ramp_years=1.5,
    period_days=182,
    decimals=1,
    method="Uttrekk fra avvikssystemet for halvåret, {n} overføringer",
    sample=(400, 1600),
    reporters=(
        (
            (T.NURSING_HOME, T.HOME_CARE, T.HOSPITAL, T.GP_OFFICE),
            (Status.TRIAL, Status.IN_USE),
            PLL_AREA,
            14,
        ),
    ),
)
CITIZENS = BenefitSpec(
    goal="innbyggeropplevelse",
    name="Andel innbyggere som opplever at helsepersonell har oppdatert informasjon",
    description=(
        "«Innbyggere kan være aktive i prosesser og beslutninger om egen helse.» Spørsmål i "
        "den årlige innbyggerundersøkelsen: «Opplevde du at helsepersonellet hadde oppdatert "
        "informasjon om deg og legemidlene dine?»"
    ),
    indicator="Andel som svarer «i stor grad» eller «i svært stor grad»",
    unit="prosent",
    direction=Direction.HIGHER,
    solutions=("kjernejournal",),
    owner="Kommunene",
    baseline_required=False,
    target="70",
    target_date=D(2027, 12, 31),
    base=(52.0, 6.0),
    change=11.0,
    ramp_years=3.0,
    period_days=31,
    decimals=1,
    method="Innbyggerundersøkelse i kommunen, {n} svar",
    sample=(120, 900),
    municipalities=14,
)
MANAGEMENT = BenefitSpec(
    goal="styringsinformasjon",
    name="Strukturerte forskrivningsdata i pleie- og omsorgstjenesten",
    description=(
        "Forskrivninger gjort i sentral forskrivningsmodul gir strukturerte data som kan "
        "brukes til styring, erfaringsdeling og kvalitetsforbedring i stedet for manuelle "
        "tellinger i papirkurver."
    ),
    indicator="Andel forskrivninger i sykehjem og hjemmetjeneste gjort i SFM",
    unit="prosent",
    direction=Direction.HIGHER,
    solutions=("sfm",),
    owner="Kommunene",
    baseline_required=False,
    target="90",
    target_date=D(2026, 12, 31),
    base=(8.0, 4.0),
    change=70.0,
    ramp_years=2.0,
    period_days=92,
    decimals=1,
    method="Uttrekk fra e-reseptstatistikken for kvartalet, {n} forskrivninger",
    sample=(300, 4000),
    municipalities=12,
)
SECURITY = BenefitSpec(
    goal="ikt-sikkerhet",
    name="Færre legemiddellister sendt på faks eller papir",
    description=(
        "Legemiddellister som sendes på faks, på papir eller i usikker e-post mellom "
        "tjenestene erstattes av oppslag i løsninger med tilgangsstyring og logg."
    ),
    indicator="Legemiddellister sendt på faks eller papir per måned",
    unit="forsendelser per måned",
    direction=Direction.LOWER,
    solutions=("sfm", "pll"),
    owner="Kommunene og helseforetakene",
    baseline_required=False,
    target="5",
    target_date=D(2028, 12, 31),
    base=(60.0, 20.0),
    change=-0.7,
    ramp_years=2.0,
    period_days=30,
    decimals=0,
    method="Telling i postjournal og fakslogg i én måned",
    reporters=(((T.NURSING_HOME, T.HOSPITAL), (Status.TRIAL, Status.IN_USE), PLL_AREA, 4),),
    municipalities=8,
)
MULTIDOSE = BenefitSpec(
    goal="frigjort-tid",
    name="Mindre tid brukt på endringer i multidose",
    description=(
        "Effektmål 2: redusert «tidsbruk knyttet til dokumentasjon og administrasjon av "
        "helsehjelp». Tid legekontor og apotek bruker på en endring i en multidosepasients "
        "legemidler (telefon, faks og manuell registrering) før og etter e-multidose."
    ),
    indicator="Tid brukt per endring i multidoseordinasjon",
    unit="minutter",
    direction=Direction.LOWER,
    solutions=("e-multidose",),
    owner="Fastlegekontorene og multidoseapotekene",
    baseline_required=True,
    target="6",
    target_date=D(2025, 12, 31),
    base=(14.0, 3.0),
    change=-0.5,
    ramp_years=1.5,
    period_days=28,
    decimals=1,
    method="Tidsregistrering ved {n} endringer over fire uker",
    reporters=(((T.GP_OFFICE, T.PHARMACY), (Status.IN_USE,), None, 12),),
)
BENEFITS = [TIME, MULTIDOSE, DEVIATIONS, CITIZENS, MANAGEMENT, SECURITY]


def _register() -> dict[str, Benefit]:
    goals = {g.code: g for g in BenefitGoal.objects.all()}
    solutions = {s.code: s for s in Solution.objects.all()}
    benefits = {}
    for spec in BENEFITS:
        benefit, created = Benefit.objects.get_or_create(
            goal=goals[spec.goal],
            name=spec.name,
            defaults={
                "description": spec.description,
                "indicator": spec.indicator,
                "unit": spec.unit,
                "direction": spec.direction,
                "owner": spec.owner,
                "baseline_required": spec.baseline_required,
                "target_value": Decimal(spec.target),
                "target_date": spec.target_date,
            },
        )
        if created:
            benefit.solutions.set([solutions[code] for code in spec.solutions])
        benefits[spec.name] = benefit
    return benefits
