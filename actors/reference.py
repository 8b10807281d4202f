"""Norway's municipal and hospital-area structure, shipped in actors/data/.

Copied from the project's reference folder (SSB population 1 January 2023, SKDE
Helseatlas catchment areas). `load_reference_data` reads it through `read_reference()`,
which refuses data that breaks the invariants below.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.text import slugify

DATA_DIR = Path(__file__).resolve().parent / "data"

EXPECTED_MUNICIPALITIES = 356
EXPECTED_COUNTIES = 11
EXPECTED_HEALTH_TRUSTS = 19
EXPECTED_REGIONAL_HEALTH_AUTHORITIES = 4
EXPECTED_POPULATION = 5_488_984


class ReferenceDataError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class ReferenceData:
    regional_health_authorities: dict[str, str] = field(default_factory=dict)  # code -> name
    health_trusts: dict[str, dict] = field(default_factory=dict)  # code -> row
    counties: dict[str, str] = field(default_factory=dict)  # number -> name
    municipalities: dict[str, dict] = field(default_factory=dict)  # number -> row
    catchments: list[dict] = field(default_factory=list)


NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


def rha_code(name: str) -> str:
    """ "Helse Sør-Øst RHF" → "helse-sor-ost" (slugify alone would drop ø and å)."""
    return slugify(name.removesuffix(" RHF").translate(NORWEGIAN_LETTERS))


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_reference(data_dir: Path | None = None) -> ReferenceData:
    data_dir = data_dir or DATA_DIR
    data = ReferenceData()
    problems: list[str] = []
    for row in _rows(data_dir / "helseforetak.csv"):
        data.regional_health_authorities[rha_code(row["rhf"])] = row["rhf"]
        data.health_trusts[row["kode"]] = {
            "name": row["navn"],
            "short_name": row["kortnavn"],
            "rha_code": rha_code(row["rhf"]),
        }
    for row in _rows(data_dir / "kommuner.csv"):
        number = row["kommunenummer"]
        if number in data.municipalities:
            problems.append(f"kommuner.csv: municipality {number} appears twice")
        data.counties[row["fylkesnummer"]] = row["fylkesnavn"]
        data.municipalities[number] = {
            "name": row["kommunenavn"],
            "county": row["fylkesnummer"],
            "population": int(row["befolkning"]),
            "population_67_plus": int(row["befolkning_67_og_eldre"]),
        }
    per_municipality: dict[str, int] = defaultdict(int)
    for row in _rows(data_dir / "opptaksomrader.csv"):
        number, trust = row["kommunenummer"], row["helseforetak_kode"]
        if number not in data.municipalities:
            problems.append(f"opptaksomrader.csv: unknown municipality {number}")
        if trust not in data.health_trusts:
            problems.append(f"opptaksomrader.csv: unknown health trust {trust}")
        per_municipality[number] += int(row["befolkning"])
        data.catchments.append(
            {"municipality": number, "health_trust": trust, "population": int(row["befolkning"])}
        )
    problems.extend(check_invariants(data, per_municipality))
    if problems:
        raise ReferenceDataError(problems)
    return data


def check_invariants(data: ReferenceData, per_municipality: dict[str, int]) -> list[str]:
    problems = []
    counts = [
        ("municipalities", len(data.municipalities), EXPECTED_MUNICIPALITIES),
        ("counties", len(data.counties), EXPECTED_COUNTIES),
        ("health trusts", len(data.health_trusts), EXPECTED_HEALTH_TRUSTS),
        (
            "regional health authorities",
            len(data.regional_health_authorities),
            EXPECTED_REGIONAL_HEALTH_AUTHORITIES,
        ),
    ]
    for what, got, expected in counts:
        if got != expected:
            problems.append(f"expected {expected} {what}, found {got}")
    total = sum(m["population"] for m in data.municipalities.values())
    if total != EXPECTED_POPULATION:
        problems.append(f"municipal population sums to {total}, expected {EXPECTED_POPULATION}")
    catchment_total = sum(c["population"] for c in data.catchments)
    if catchment_total != EXPECTED_POPULATION:
        problems.append(
            f"catchment population sums to {catchment_total}, expected {EXPECTED_POPULATION}"
        )
    for number, municipality in data.municipalities.items():
        if number not in per_municipality:
            problems.append(f"municipality {number} {municipality['name']} is in no catchment area")
        elif per_municipality[number] != municipality["population"]:
            problems.append(
                f"municipality {number} {municipality['name']}: catchment shares sum to "
                f"{per_municipality[number]}, not its population {municipality['population']}"
            )
    return problems


def differences(shipped: ReferenceData, stored: ReferenceData) -> list[str]:
    """What in `stored` (the database) differs from `shipped` (actors/data), as
    `load_reference_data` would change it: one line per kind of record."""
    problems = []
    sections = [
        ("regional health authorities", "regional_health_authorities"),
        ("health trusts", "health_trusts"),
        ("counties", "counties"),
        ("municipalities", "municipalities"),
    ]
    for what, attr in sections:
        want, have = getattr(shipped, attr), getattr(stored, attr)
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        changed = sorted(k for k in set(want) & set(have) if want[k] != have[k])
        for label, keys in (("missing", missing), ("not in the reference", extra),
                            ("different", changed)):  # fmt: skip
            if keys:
                problems.append(f"{what} {label}: {', '.join(keys[:10])}")

    def shares(data: ReferenceData) -> set[tuple]:
        return {(c["municipality"], c["health_trust"], c["population"]) for c in data.catchments}

    if shares(shipped) != shares(stored):
        diff = sorted(shares(shipped) ^ shares(stored))
        problems.append(
            f"catchment shares differ: {', '.join(f'{m}/{t}' for m, t, _ in diff[:10])}"
        )
    return problems
