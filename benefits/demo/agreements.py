"""Synthetic intention agreements, benefit register and benefit reports for the demo
(run by `seed_demo` after the rollout history). Deterministic for a seed; written once.

Intention agreements follow the planning documents (seeds/, see DOMAIN.md): "Statens videre
tilrettelegging for Akson forutsetter signering av intensjonserklæringer med kommuner som
representerer minimum halvparten av befolkningen utenom helseregion Midt-Norge. Frist for
signering er 1. juli 2020." So the agreements signed by 1 July 2020 cover just over half of
that population, a few more were signed in the autumn, some are only sent or drafted. Some
municipalities sign together in a regional cooperation agreement. "Intensjonsavtalene bør
inkludere gevinstrealisering, finansieringsprinsipper og prinsipper for risikodeling": most
have all three clauses, one or two lack one.

For PLL, "Intensjonsavtale med tilstrekkelig aktører bør være etablert" before limited
rollout in an area, and "Forankring og inngåelse av intensjonsavtaler må gjøres i forkant av
perioden med begrenset innføring": agreements scoped to PLL in the Bergen area (municipalities,
hospitals, GP offices and pharmacies) signed before each wave of the rollout history.

Benefits: one or more per benefit goal (delmål), with indicator, unit, direction and target;
reports by organisations that have the solutions in use (and by some municipalities as a
whole): "Nullpunktsmålinger knyttet til tidsbruk bør gjennomføres før innføring i den enkelte
kommune", so most baselines end before the organisation started (from the rollout history),
a few after (late baselines). Follow-ups improve in the right direction, with noise.

Every write goes through benefits.services; the register has no service, its rows are
created here. Nothing here is a statement about a real municipality or organisation.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Min

from actors.choices import OrganisationTypeCode as T
from actors.choices import Role
from actors.demo import SURNAMES
from actors.models import Municipality, Notification, Organisation, User
from actors.scoping import SYSTEM_USER
from rollout.choices import Status
from rollout.demo import SYSTEM_USERNAMES
from rollout.models import Solution, StatusChange
from rollout.services import today as local_today

from .. import services
from ..choices import AgreementStatus, Direction, MeasurementKind, ReportStatus
from ..models import Benefit, BenefitGoal, IntentAgreement
from ..selectors import agreement_coverage, outside_region_municipalities, solution_start_dates

D = datetime.date
DAY = datetime.timedelta(days=1)
MARKER = "Demodata."
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

FIRST_NAMES = [
    "Kari", "Ola", "Ingrid", "Per", "Silje", "Lars", "Marit", "Jon", "Hilde", "Anders",
    "Tone", "Erik", "Randi", "Knut", "Nina", "Morten", "Anne", "Geir", "Liv", "Trond",
]  # fmt: skip
CONTACT_ROLES = [
    "kommunalsjef helse og omsorg",
    "kommunedirektør",
    "e-helsekoordinator",
    "rådgiver helse og velferd",
    "virksomhetsleder",
]


# --- the benefit register ---------------------------------------------------------------


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
PLO = (T.NURSING_HOME, T.HOME_CARE, T.MUNICIPALITY, T.MUNICIPAL_ACUTE_BEDS)
RETURN_COMMENT = (
    "Verdien avviker mye fra forrige måling. Beskriv hvordan tidsbruken ble registrert "
    "(hvem, hvor mange innleggelser) og legg ved registreringsskjemaet før du sender inn på nytt."
)


@dataclass
class Summary:
    agreements: int
    signed: int
    coverage: float
    benefits: int
    reports: int


def already_seeded() -> bool:
    return IntentAgreement.objects.filter(notes__startswith=MARKER).exists()


def seed_benefits(seed: int) -> Summary | None:
    """Write the agreements, register and reports once; None if they are already there."""
    if already_seeded():
        return None
    rng = random.Random(seed * 1_000_033 + 2020)
    with transaction.atomic():
        reviewer = _stand_in_reviewer()
        plans = _agreement_plans(rng)
        for plan in plans:
            plan.save()
        benefits = _register()
        reports = 0
        for spec in BENEFITS:
            reports += _reports(rng, spec, benefits[spec.name], reviewer)
        # The stand-in acted only to review these reports; nobody can sign in as it.
        Notification.objects.filter(user=reviewer).delete()
        User.objects.filter(pk=reviewer.pk).update(is_active=False)
    signed = sum(p.status == AgreementStatus.SIGNED for p in plans)
    share = agreement_coverage().nation.share
    return Summary(len(plans), signed, share, len(benefits), reports)


def _stand_in_reviewer() -> User:
    """The rollout demo's national coordinator stand-in (benefit_report_review records a real
    reviewer). Active only inside the seeding transaction; it has no password."""
    user, _ = User.objects.get_or_create(username=SYSTEM_USERNAMES[0])
    user.first_name, user.last_name = "Demodata", "(koordinator)"
    user.role, user.is_active, user.national_scope = Role.COORDINATOR, True, True
    user.set_unusable_password()
    user.save()
    return user


# --- intention agreements ---------------------------------------------------------------


@dataclass
class AgreementPlan:
    title: str
    municipalities: list[Municipality]
    status: str
    notes: str
    contact: tuple[str, str]
    organisations: list[Organisation] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)
    sent: datetime.date | None = None
    signed: datetime.date | None = None
    missing_clause: str | None = None
    document: bool = False

    def save(self) -> IntentAgreement:
        settled = self.status != AgreementStatus.DRAFT  # a draft has settled only benefits
        clauses = {
            "clause_benefits": True,
            "clause_financing": settled,
            "clause_risk_sharing": settled,
        }
        if self.missing_clause:
            clauses[self.missing_clause] = False
        document = None
        if self.document:
            document = ContentFile(self.pdf(clauses), name=f"{_slug(self.title)}.pdf")
        return services.agreement_save(
            user=SYSTEM_USER,
            agreement_id=None,
            expected_version=None,
            fields={
                "title": self.title,
                "status": self.status,
                "sent_date": self.sent,
                "signed_date": self.signed,
                **clauses,
                "contact_person": self.contact[0],
                "contact_email": self.contact[1],
                "notes": f"{MARKER} {self.notes}",
            },
            municipalities=self.municipalities,
            organisations=self.organisations,
            solutions=self.solutions,
            document=document,
        )

    def pdf(self, clauses: dict) -> bytes:
        parties = [f"{m.name} kommune" for m in self.municipalities]
        parties += [o.name for o in self.organisations]
        lines = [
            "INTENSJONSAVTALE",
            self.title,
            "",
            "Parter:",
            *_wrap(", ".join(parties), 80)[:8],
            "",
            "Avtalen omfatter:",
            *[
                f"  [{'x' if clauses[k] else ' '}] {label}"
                for k, label in (
                    ("clause_benefits", "gevinstrealisering"),
                    ("clause_financing", "finansieringsprinsipper"),
                    ("clause_risk_sharing", "prinsipper for risikodeling"),
                )
            ],
            "",
            f"Signert {self.signed:%d.%m.%Y}" if self.signed else "Ikke signert",
            f"For partene: {self.contact[0]}",
            "",
            "Demodata - syntetisk dokument, ikke en reell avtale.",
        ]
        return minimal_pdf(lines)


def _agreement_plans(rng: random.Random) -> list[AgreementPlan]:
    by_number = {m.number: m for m in Municipality.objects.all()}
    outside = sorted(outside_region_municipalities(), key=lambda m: m.number)
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
        members = [by_number[n] for n in numbers]
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
        covered.update(numbers)
    for number in SINGLES:
        sent, signed = signed_before()
        m = by_number[number]
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
        covered.add(number)

    # PLL agreements later bring the rest of the Bergen area in; count them now so the
    # total stays within the band.
    pll_new = sum(by_number[n].population for n in PLL_WAVE_2 if n not in covered)
    reserved = covered | set(PLL_WAVE_2) | set(PLL_SENT) | set(SENT_GROUP[1])
    pool = _weighted_order(
        rng, [m for m in outside if m.number not in reserved], lambda m: m.population**0.5
    )
    population = sum(by_number[n].population for n in covered)
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
    members = [by_number[n] for n in numbers]
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


def _weighted_order(rng: random.Random, items: list, weight) -> list:
    """A random order in which heavier items tend to come first (Efraimidis-Spirakis)."""
    keys = [(rng.random() ** (1.0 / max(weight(item), 1e-9)), i) for i, item in enumerate(items)]
    return [items[i] for _k, i in sorted(keys, reverse=True)]


def _contact(rng: random.Random, m: Municipality) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    email = f"{_slug(first)}.{_slug(last)}@{_slug(m.name.split(' - ')[0])}.kommune.example"
    return f"{first} {last}, {rng.choice(CONTACT_ROLES)}", email


def _slug(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in text).split())


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with the lines in Helvetica (WinAnsi), with a correct xref table."""

    def escape(s: str) -> bytes:
        raw = s.encode("cp1252", "replace")
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    text = b"BT /F1 12 Tf 16 TL 72 770 Td " + b" T* ".join(
        b"(" + escape(line) + b") Tj" for line in lines
    )
    stream = text + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- benefit register and reports -------------------------------------------------------


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


@dataclass
class Reporter:
    municipality: Municipality
    organisation: Organisation | None
    start: datetime.date


def _org_reporters(rng: random.Random, spec: BenefitSpec, benefit: Benefit) -> list[Reporter]:
    chosen: list[int] = []
    for types, statuses, trust, count in spec.reporters:
        qs = Organisation.objects.filter(
            is_synthetic=True,
            is_active=True,
            type__code__in=types,
            rollout_statuses__solution__code__in=spec.solutions,
            rollout_statuses__status__in=statuses,
        ).exclude(pk__in=chosen)
        if trust:
            qs = qs.filter(health_trust__code=trust)
        ids = list(qs.order_by("orgnr").values_list("pk", flat=True).distinct())
        chosen += rng.sample(ids, min(count, len(ids)))
    starts = solution_start_dates(benefit, chosen)
    orgs = Organisation.objects.select_related("municipality").in_bulk(chosen)
    return [Reporter(orgs[pk].municipality, orgs[pk], starts[pk]) for pk in chosen if pk in starts]


def _municipality_reporters(rng: random.Random, spec: BenefitSpec) -> list[Reporter]:
    """Municipalities reporting for themselves: started when their nursing and care services
    first tried or used the solution."""
    starts = dict(
        StatusChange.objects.filter(
            solution__code__in=spec.solutions,
            to_status__in=[Status.TRIAL, Status.IN_USE],
            organisation__type__code__in=PLO,
        )
        .values_list("organisation__municipality__number")
        .annotate(start=Min("effective_date"))
        .values_list("organisation__municipality__number", "start")
    )
    numbers = sorted(n for n, start in starts.items() if start <= local_today() - 400 * DAY)
    chosen = rng.sample(numbers, min(spec.municipalities, len(numbers)))
    by_number = Municipality.objects.in_bulk(chosen, field_name="number")
    return [Reporter(by_number[n], None, starts[n]) for n in chosen]


def _reports(rng: random.Random, spec: BenefitSpec, benefit: Benefit, reviewer: User) -> int:
    reporters = _org_reporters(rng, spec, benefit) if spec.reporters else []
    reporters += _municipality_reporters(rng, spec) if spec.municipalities else []
    # A few organisations measured their baseline only after they had started.
    late = set()
    if spec.baseline_required and reporters:
        late = set(rng.sample(range(len(reporters)), max(1, len(reporters) // 10)))
    written = 0
    returned = spec is TIME
    for i, reporter in enumerate(reporters):
        series = _series(rng, spec, reporter.start, late=i in late)
        statuses = [ReportStatus.APPROVED] * len(series)
        r = rng.random()
        if returned and len(series) > 2:
            # An outlier the reviewer sends back.
            kind, a, b, _value, n = series[-1]
            series[-1] = (kind, a, b, _decimal(float(series[0][3]) * 0.3, spec.decimals), n)
            statuses[-1], returned = ReportStatus.RETURNED, False
        elif r < 0.12:
            statuses[-1] = ReportStatus.SUBMITTED
        elif r < 0.2:
            statuses[-1] = ReportStatus.DRAFT
        elif r < 0.26 and i not in late:
            # Just started reporting: only the baseline, in draft or waiting for review.
            series = series[:1]
            statuses = [ReportStatus.DRAFT if r < 0.23 else ReportStatus.SUBMITTED]
        for (kind, start, end, value, n), status in zip(series, statuses, strict=True):
            _write_report(spec, benefit, reporter, kind, start, end, value, n, status, reviewer)
            written += 1
    return written


def _series(rng: random.Random, spec: BenefitSpec, start: datetime.date, late: bool) -> list:
    """A baseline and yearly follow-ups (the first and the latest two): (kind, from, to,
    value, sample size)."""
    length = spec.period_days * DAY
    last_day = local_today() - 21 * DAY
    mean, spread = spec.base
    baseline = max(rng.gauss(mean, spread), mean - 2 * spread, mean * 0.2)
    effect = rng.uniform(0.6, 1.25)

    def value_at(day: datetime.date) -> float:
        progress = min(max((day - start).days / 365 / spec.ramp_years, 0.0), 1.0) * effect
        if spec.direction == Direction.HIGHER:
            value = min(baseline + spec.change * progress, 99.0)
        else:
            value = baseline * (1 + spec.change * progress)
        return value * rng.gauss(1, 0.04)

    # A late baseline ends after the start; the others end some weeks before it.
    end = start + (rng.randint(45, 150) if late else -rng.randint(14, 120)) * DAY
    rows = [(MeasurementKind.BASELINE, end - length + DAY, end, value_at(end))]
    first = start + rng.randint(180, 280) * DAY
    follow_ups = []
    while (end := first + len(follow_ups) * 365 * DAY + length - DAY) <= last_day:
        follow_ups.append((end - length + DAY, end))
    if len(follow_ups) > 3:
        follow_ups = [follow_ups[0], *follow_ups[-2:]]
    rows += [(MeasurementKind.FOLLOW_UP, a, b, value_at(b)) for a, b in follow_ups]
    return [
        (kind, a, b, _decimal(v, spec.decimals), rng.randint(*spec.sample))
        for kind, a, b, v in rows
    ]


def _decimal(value: float, decimals: int) -> Decimal:
    return Decimal(str(round(max(value, 0.0), decimals))).quantize(Decimal("0.01"))


def _write_report(spec, benefit, reporter, kind, start, end, value, n, status, reviewer) -> None:
    place = reporter.organisation.name if reporter.organisation else reporter.municipality.name
    report = services.benefit_report_save(
        user=SYSTEM_USER,
        report_id=None,
        expected_version=None,
        fields={
            "benefit": benefit,
            "municipality": reporter.municipality,
            "organisation": reporter.organisation,
            "kind": kind,
            "period_start": start,
            "period_end": end,
            "value": value,
            "method": spec.method.format(n=n),
            "evidence": f"{MARKER} Registreringer fra {place}, oppsummert av kontaktpersonen.",
        },
    )
    if status == ReportStatus.DRAFT:
        return
    report = services.benefit_report_submit(
        user=SYSTEM_USER, report_id=report.pk, expected_version=report.version
    )
    if status == ReportStatus.SUBMITTED:
        return
    services.benefit_report_review(
        user=reviewer,
        report_id=report.pk,
        expected_version=report.version,
        approve=status == ReportStatus.APPROVED,
        comment="" if status == ReportStatus.APPROVED else RETURN_COMMENT,
    )
