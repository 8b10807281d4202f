"""A synthetic organisation registry for demonstrations, clearly flagged `is_synthetic`.

Counts follow the seed documents: about 1 500 GP offices, 1 000 nursing homes,
1 000 pharmacies, 1 500 contracted specialists and 40 hospitals, plus home care,
emergency primary care (legevakt), municipal acute beds (ØHD/KAD) and the municipal
health and care service in every municipality. Offices are spread by population (nursing
homes by the population aged 67+) with at least one GP office and one nursing home in
every municipality. Organisation numbers start with 1, a range Brønnøysund does not
issue, so they never collide with a real organisation; their check digits are valid.
The same seed always gives the same registry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from stdnum.no import orgnr as stdnum_orgnr

from .choices import OrganisationTypeCode as T
from .models import HealthTrust, Municipality, OrganisationType, RecordSystem, Vendor

COUNTS = {T.GP_OFFICE: 1500, T.NURSING_HOME: 1000, T.PHARMACY: 1000, T.SPECIALIST: 1500}
HOSPITALS = 40
MIDT_NORGE = "helse-midt-norge"

# vendor -> [(product, organisation types)]; demo data, not a statement of market shares.
VENDORS = {
    "DIPS AS": [("DIPS Arena", [T.HOSPITAL])],
    "Epic (Helseplattformen AS)": [
        (
            "Helseplattformen",
            [T.HOSPITAL, T.NURSING_HOME, T.HOME_CARE, T.MUNICIPALITY, T.MUNICIPAL_ACUTE_BEDS],
        )
    ],
    "CompuGroup Medical Norway AS": [
        ("CGM Allmenn", [T.GP_OFFICE, T.EMERGENCY_PRIMARY_CARE]),
        ("CGM Vision", [T.SPECIALIST]),
    ],
    "Infodoc AS": [("Infodoc Plenario", [T.GP_OFFICE, T.SPECIALIST, T.EMERGENCY_PRIMARY_CARE])],
    "Pridok AS": [("Pridok", [T.GP_OFFICE, T.SPECIALIST])],
    "Visma Welfare AS": [
        ("Visma Flyt Profil", [T.NURSING_HOME, T.HOME_CARE, T.MUNICIPALITY, T.MUNICIPAL_ACUTE_BEDS])
    ],
    "Tietoevry Care": [
        (
            "Lifecare Helse og omsorg",
            [T.NURSING_HOME, T.HOME_CARE, T.MUNICIPALITY, T.MUNICIPAL_ACUTE_BEDS],
        )
    ],
    "Apotekforeningen": [("FarmaPro", [T.PHARMACY])],
}

GP_NAMES = ["{m} legesenter", "{m} legekontor", "Sentrum legekontor {m}", "{m} helsehus legekontor"]
NURSING_NAMES = ["{m} sykehjem", "{m} helse- og omsorgssenter", "{m} bo- og behandlingssenter"]
PHARMACY_CHAINS = ["Apotek 1", "Vitusapotek", "Boots apotek", "Ditt Apotek"]
SPECIALTIES = ["Øyelege", "Hudlege", "Gynekolog", "Psykiater", "Øre-nese-hals-lege", "Psykolog"]
SURNAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Eriksen", "Bakke", "Solberg", "Dahl",
    "Lund", "Moen", "Strand", "Halvorsen", "Aas", "Sæther", "Bråthen", "Lie", "Øvrebø",
]  # fmt: skip


def allocate(total: int, weights: dict, minimum: int = 0) -> dict:
    """Split `total` over keys in proportion to weights (largest remainder), each at least
    `minimum`."""
    result = dict.fromkeys(weights, minimum)
    rest = total - minimum * len(weights)
    weight_sum = sum(weights.values())
    shares = {k: rest * w / weight_sum for k, w in weights.items()}
    for k, share in shares.items():
        result[k] += int(share)
    left = total - sum(result.values())
    for k in sorted(shares, key=lambda k: (shares[k] - int(shares[k]), str(k)), reverse=True)[
        :left
    ]:
        result[k] += 1
    return result


@dataclass
class DemoRegistry:
    rows: list[tuple[int, dict]]
    record_systems: dict[str, RecordSystem]  # orgnr -> product


class _Numbers:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def orgnr(self) -> str:
        while True:
            body = "1" + "".join(str(self.rng.randrange(10)) for _ in range(7))
            check = (-stdnum_orgnr.checksum(body + "0")) % 11
            if check == 10:
                continue
            number = body + str(check)
            if number not in self.used and stdnum_orgnr.is_valid(number):
                self.used.add(number)
                return number


def ensure_vendors() -> dict[str, list[RecordSystem]]:
    """Create the demo vendors and products; {type code: [products]}."""
    by_type: dict[str, list[RecordSystem]] = {}
    types = {t.code: t for t in OrganisationType.objects.all()}
    for vendor_name, products in VENDORS.items():
        vendor, _ = Vendor.objects.get_or_create(name=vendor_name, defaults={"is_synthetic": True})
        for product_name, type_codes in products:
            product, _ = RecordSystem.objects.get_or_create(vendor=vendor, name=product_name)
            product.organisation_types.set([types[c] for c in type_codes])
            for code in type_codes:
                by_type.setdefault(code, []).append(product)
    return by_type


def build_registry(seed: int) -> DemoRegistry:
    rng = random.Random(seed)
    numbers = _Numbers(rng)
    products = ensure_vendors()
    municipalities = list(
        Municipality.objects.current().prefetch_related(
            "catchments__health_trust__regional_health_authority"
        )
    )
    rows: list[tuple[int, dict]] = []
    systems: dict[str, RecordSystem] = {}

    def trust_for(m: Municipality) -> HealthTrust:
        catchments = list(m.catchments.all())
        if len(catchments) == 1:
            return catchments[0].health_trust
        return rng.choices(
            [c.health_trust for c in catchments], weights=[c.population for c in catchments]
        )[0]

    def add(name: str, code: str, m: Municipality, trust: HealthTrust | None = None) -> None:
        trust = trust or trust_for(m)
        number = numbers.orgnr()
        rows.append(
            (
                len(rows) + 2,
                {
                    "organisasjonsnummer": number,
                    "navn": name,
                    "type": code,
                    "kommunenummer": m.number,
                    "her_id": str(100000 + len(rows) * 7 + rng.randrange(7)),
                    "helseforetak": trust.code,
                    "_present": {"her_id", "helseforetak"},
                },
            )
        )
        in_midt = trust.regional_health_authority.code == MIDT_NORGE
        choices = products.get(code, [])
        preferred = [p for p in choices if (p.name == "Helseplattformen") == in_midt] or choices
        if code in (T.GP_OFFICE, T.SPECIALIST, T.PHARMACY, T.EMERGENCY_PRIMARY_CARE):
            preferred = [p for p in choices if p.name != "Helseplattformen"] or choices
        if preferred:
            systems[number] = rng.choice(preferred)

    population = {m: m.population for m in municipalities}
    elderly = {m: max(m.population_67_plus, 1) for m in municipalities}
    plan = {
        T.GP_OFFICE: allocate(COUNTS[T.GP_OFFICE], population, minimum=1),
        T.NURSING_HOME: allocate(COUNTS[T.NURSING_HOME], elderly, minimum=1),
        T.PHARMACY: allocate(COUNTS[T.PHARMACY], population),
        T.SPECIALIST: allocate(
            COUNTS[T.SPECIALIST], {m: m.population**1.4 for m in municipalities}
        ),
    }
    for m in municipalities:
        add(f"{m.name} kommune – helse og omsorg", T.MUNICIPALITY, m)
        add(f"Hjemmetjenesten i {m.name}", T.HOME_CARE, m)
        add(f"{m.name} legevakt", T.EMERGENCY_PRIMARY_CARE, m)
        add(f"{m.name} ØHD/KAD", T.MUNICIPAL_ACUTE_BEDS, m)
        for i in range(plan[T.GP_OFFICE][m]):
            add(
                _numbered(GP_NAMES[i % len(GP_NAMES)].format(m=m.name), i, len(GP_NAMES)),
                T.GP_OFFICE,
                m,
            )
        for i in range(plan[T.NURSING_HOME][m]):
            add(
                _numbered(
                    NURSING_NAMES[i % len(NURSING_NAMES)].format(m=m.name), i, len(NURSING_NAMES)
                ),
                T.NURSING_HOME,
                m,
            )
        for i in range(plan[T.PHARMACY][m]):
            chain = PHARMACY_CHAINS[i % len(PHARMACY_CHAINS)]
            add(_numbered(f"{chain} {m.name}", i, len(PHARMACY_CHAINS)), T.PHARMACY, m)
        for _ in range(plan[T.SPECIALIST][m]):
            add(f"{rng.choice(SPECIALTIES)} {rng.choice(SURNAMES)} ({m.name})", T.SPECIALIST, m)
    _add_hospitals(municipalities, add)
    return DemoRegistry(rows=rows, record_systems=systems)


def _numbered(name: str, index: int, patterns: int) -> str:
    round_ = index // patterns
    return name if round_ == 0 else f"{name} {round_ + 1}"


def _add_hospitals(municipalities, add) -> None:
    """One hospital in the largest municipality of each trust's catchment, the rest spread
    by catchment population to the next-largest municipalities."""
    by_trust: dict[HealthTrust, list[tuple[int, Municipality]]] = {}
    for m in municipalities:
        for c in m.catchments.all():
            by_trust.setdefault(c.health_trust, []).append((c.population, m))
    trusts = sorted(by_trust, key=lambda t: t.code)
    per_trust = allocate(HOSPITALS, {t: sum(p for p, _ in by_trust[t]) for t in trusts}, minimum=1)
    for trust in trusts:
        ranked = [m for _, m in sorted(by_trust[trust], key=lambda pm: (-pm[0], pm[1].number))]
        for i in range(per_trust[trust]):
            m = ranked[i % len(ranked)]
            add(f"{trust.name.removesuffix(' HF')}, {m.name}", T.HOSPITAL, m, trust)
