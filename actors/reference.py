"""Norway's municipal and hospital-area structure in dated versions, shipped in actors/data/.

Copied from the project's reference folder (Statistics Norway's classification 131 and
its change lists, SSB population per year, SKDE Helseatlas catchment areas). The
structure is a list of periods, each a municipality list that is valid from a date, with
the list of changes that led to it:

| from       | municipalities | counties | file (changes)                              |
|------------|----------------|----------|---------------------------------------------|
| 2020-01-01 | 356            | 11       | kommuner.csv                                |
| 2024-01-01 | 357            | 15       | kommuner-2024.csv (endringer-2024.csv)      |
| 2026-01-01 | 357            | 15       | kommuner-2026.csv (endringer-2026.csv)      |

A municipality is one entity for as long as it lives: renumbered or renamed, it keeps its
identity (its *key* is the number it had when it first appears) and gains a version. A
split ends nothing: the part that keeps the old name continues the old municipality
(1507 Ålesund continues as 1508 Ålesund) and each other part is a new municipality with
its predecessor recorded (1580 Haram). A merge continues the part that keeps the new
number or name and ends the others. A boundary adjustment changes no numbers.

Population is per year (1 January, in the structure of that year). Catchment areas are
shares of a municipality's residents per health trust (1 everywhere except Oslo); they
did not change with the renumbering. `read_reference()` refuses data that breaks an
invariant of any period (`PERIOD_INVARIANTS`, `POPULATION_INVARIANTS`).
"""

from __future__ import annotations

import csv
import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.utils.text import slugify

DATA_DIR = Path(__file__).resolve().parent / "data"
D = datetime.date
ONE_DAY = datetime.timedelta(days=1)

# The periods: when each municipality list takes effect, and the changes that led to it.
PERIODS = [
    (D(2020, 1, 1), "kommuner.csv", None),
    (D(2024, 1, 1), "kommuner-2024.csv", "endringer-2024.csv"),
    (D(2026, 1, 1), "kommuner-2026.csv", "endringer-2026.csv"),
]
# Population per year: the file and the column that holds it (2023 is in kommuner.csv).
POPULATION_FILES = {
    2023: "kommuner.csv",
    2024: "befolkning-2024.csv",
    2025: "befolkning-2025.csv",
    2026: "befolkning-2026.csv",
}

EXPECTED_HEALTH_TRUSTS = 19
EXPECTED_REGIONAL_HEALTH_AUTHORITIES = 4
MIDT_NORGE = "helse-midt-norge"
COUNTIES_2024 = {
    "03": 1, "11": 23, "15": 27, "18": 41, "31": 12, "32": 21, "33": 18, "34": 46,
    "39": 6, "40": 17, "42": 25, "46": 43, "50": 38, "55": 21, "56": 18,
}  # fmt: skip
# Per period (by its first day): municipalities, counties, municipalities per county
# (None: not checked), municipalities in Helse Midt-Norge's catchment.
PERIOD_INVARIANTS = {
    D(2020, 1, 1): (356, 11, None, 64),
    D(2024, 1, 1): (357, 15, COUNTIES_2024, 65),
    D(2026, 1, 1): (357, 15, COUNTIES_2024, 65),
}
# Per year: the national population and the population outside Helse Midt-Norge.
POPULATION_INVARIANTS = {
    2023: (5_488_984, 4_742_149),
    2024: (5_550_203, 4_796_623),
    2025: (5_594_340, 4_835_112),
    2026: (5_627_400, 4_865_065),
}
# Kinds of change in a change list (endringer-*.csv).
CONTINUES = {"renumbered", "renamed", "unchanged"}
KNOWN_CHANGES = CONTINUES | {"split", "merged", "boundary_adjustment"}


class ReferenceDataError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Version:
    valid_from: datetime.date
    valid_to: datetime.date | None
    number: str
    name: str
    county: str

    def as_tuple(self) -> tuple:
        return (self.valid_from, self.valid_to, self.number, self.name, self.county)


@dataclass
class MunicipalityLife:
    """One municipality over time: its versions (number, name, county), when it began and
    ended, which municipality it split from (or merged into), its population per year."""

    key: str
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    versions: list[Version] = field(default_factory=list)
    predecessors: list[str] = field(default_factory=list)  # keys
    population: dict[int, tuple[int, int]] = field(default_factory=dict)  # year -> (all, 67+)

    def version_on(self, day: datetime.date) -> Version | None:
        for v in self.versions:
            if v.valid_from <= day and (v.valid_to is None or day <= v.valid_to):
                return v
        return None

    @property
    def current(self) -> Version:
        return self.versions[-1]


@dataclass
class ReferenceData:
    regional_health_authorities: dict[str, str] = field(default_factory=dict)  # code -> name
    health_trusts: dict[str, dict] = field(default_factory=dict)  # code -> row
    counties: dict[str, dict] = field(default_factory=dict)  # number -> name, valid_from/to
    municipalities: dict[str, MunicipalityLife] = field(default_factory=dict)  # by key
    catchments: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # key -> shares

    def on(self, day: datetime.date) -> dict[str, Version]:
        """The municipalities that exist on `day`, by key, with their version of that day."""
        result = {}
        for key, life in self.municipalities.items():
            version = life.version_on(day)
            if version is not None:
                result[key] = version
        return result

    def latest_year(self) -> int:
        return max(y for life in self.municipalities.values() for y in life.population)


NORWEGIAN_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})


def rha_code(name: str) -> str:
    """ "Helse Sør-Øst RHF" → "helse-sor-ost" (slugify alone would drop ø and å)."""
    return slugify(name.removesuffix(" RHF").translate(NORWEGIAN_LETTERS))


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def split_population(population: int, shares: dict[str, Decimal]) -> dict[str, int]:
    """A municipality's residents split by catchment shares into whole numbers that add up
    to the total (largest remainder; ties by trust code)."""
    exact = {code: population * share for code, share in shares.items()}
    parts = {code: int(value) for code, value in exact.items()}
    left = population - sum(parts.values())
    for code in sorted(exact, key=lambda c: (-(exact[c] - parts[c]), c))[:left]:
        parts[code] += 1
    return parts


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
    _read_structure(data, data_dir, problems)
    if not problems:
        _read_population(data, data_dir, problems)
        _read_catchments(data, data_dir, problems)
    if not problems:
        problems.extend(check_invariants(data))
    if problems:
        raise ReferenceDataError(problems)
    return data


def _read_structure(data: ReferenceData, data_dir: Path, problems: list[str]) -> None:
    """Walk the periods in order, carrying each municipality's identity across changes."""
    current: dict[str, str] = {}  # number valid in the previous period -> key
    county_periods: dict[str, list[tuple[datetime.date, str]]] = defaultdict(list)
    for index, (start, filename, changes_file) in enumerate(PERIODS):
        rows = _rows(data_dir / filename)
        listed = {}
        for row in rows:
            number = row["kommunenummer"]
            if number in listed:
                problems.append(f"{filename}: municipality {number} appears twice")
            listed[number] = row
        for row in listed.values():
            county_periods[row["fylkesnummer"]].append((start, row["fylkesnavn"]))
        if index == 0:
            for number in listed:
                data.municipalities[number] = MunicipalityLife(key=number, valid_from=start)
            numbering = {number: number for number in listed}  # new number -> key
        else:
            numbering = _apply_changes(
                data, current, listed, start, data_dir / changes_file, problems
            )
        for number, key in numbering.items():
            row = listed[number]
            life = data.municipalities[key]
            version = Version(start, None, number, row["kommunenavn"], row["fylkesnummer"])
            last = life.versions[-1] if life.versions else None
            if last is None or last.as_tuple()[2:] != version.as_tuple()[2:]:
                if last is not None:
                    last.valid_to = start - ONE_DAY
                life.versions.append(version)
        current = numbering
    for number, periods in county_periods.items():
        starts = sorted({start for start, _ in periods})
        first, last_start = starts[0], starts[-1]
        expected = [p[0] for p in PERIODS if first <= p[0] <= last_start]
        if starts != expected:
            problems.append(f"county {number} disappears and comes back")
        following = [p[0] for p in PERIODS if p[0] > last_start]
        data.counties[number] = {
            "name": max(periods)[1],
            "valid_from": first,
            "valid_to": following[0] - ONE_DAY if following else None,
        }


def _apply_changes(data, current, listed, start, path, problems) -> dict[str, str]:
    """The keys of the numbers in a new period's list: an unchanged number keeps its key;
    the change list says where each changed number went."""
    moves: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # old -> (new, kind, name)
    for row in _rows(path):
        kind = row["change"]
        if kind not in KNOWN_CHANGES:
            problems.append(f"{path.name}: unknown kind of change {kind!r}")
            continue
        if kind == "boundary_adjustment" and row["old_kommunenummer"] != row["new_kommunenummer"]:
            continue  # an area moved to a neighbour: no one's number changes
        moves[row["old_kommunenummer"]].append((row["new_kommunenummer"], kind, row["old_navn"]))
    numbering: dict[str, str] = {}
    merged: dict[str, list[str]] = defaultdict(list)  # new number -> old numbers merging
    for old, key in current.items():
        targets = moves.get(old, [(old, "unchanged", "")])
        kinds = {kind for _, kind, _ in targets}
        if kinds & {"split"}:
            old_name = targets[0][2]
            keeps = [n for n, _, _ in targets if listed.get(n, {}).get("kommunenavn") == old_name]
            if len(keeps) != 1:
                problems.append(
                    f"{path.name}: split of {old} {old_name}: exactly one part must keep the name"
                )
                continue
            for new, _, _ in targets:
                if new == keeps[0]:
                    numbering[new] = key
                else:
                    numbering[new] = new
                    data.municipalities[new] = MunicipalityLife(
                        key=new, valid_from=start, predecessors=[key]
                    )
        elif kinds & {"merged"}:
            merged[targets[0][0]].append(old)
        else:
            numbering[targets[0][0]] = key
    for new, olds in merged.items():
        keeps = [o for o in olds if o == new] or olds[:1]
        numbering[new] = current[keeps[0]]
        for old in olds:
            if old != keeps[0]:
                life = data.municipalities[current[old]]
                life.valid_to = start - ONE_DAY
                life.versions[-1].valid_to = start - ONE_DAY
                data.municipalities[current[keeps[0]]].predecessors.append(current[old])
    for number in listed:
        if number not in numbering:
            problems.append(
                f"{path.name}: {number} {listed[number]['kommunenavn']} is in the list from "
                f"{start} but no change leads to it"
            )
    for number in numbering:
        if number not in listed:
            problems.append(f"{path.name}: the change list leads to {number}, which is not listed")
    return {n: k for n, k in numbering.items() if n in listed}


def _read_population(data: ReferenceData, data_dir: Path, problems: list[str]) -> None:
    for year, filename in POPULATION_FILES.items():
        structure = {v.number: key for key, v in data.on(D(year, 1, 1)).items()}
        seen = set()
        for row in _rows(data_dir / filename):
            key = structure.get(row["kommunenummer"])
            if key is None:
                problems.append(
                    f"{filename}: {row['kommunenummer']} is not a municipality on 1.1.{year}"
                )
                continue
            seen.add(key)
            data.municipalities[key].population[year] = (
                int(row["befolkning"]),
                int(row["befolkning_67_og_eldre"]),
            )
        for key in sorted(set(structure.values()) - seen):
            problems.append(f"{filename}: no population for {data.on(D(year, 1, 1))[key].number}")


def _read_catchments(data: ReferenceData, data_dir: Path, problems: list[str]) -> None:
    """Shares from the 2024 file (in 2024 numbers); the 2023 file (residents per trust in
    2023 numbers) must agree with them."""
    numbers_2024 = {v.number: key for key, v in data.on(D(2024, 1, 1)).items()}
    for row in _rows(data_dir / "opptaksomrader-2024.csv"):
        key = numbers_2024.get(row["kommunenummer"])
        if key is None:
            problems.append(f"opptaksomrader-2024.csv: unknown municipality {row['kommunenummer']}")
            continue
        if row["helseforetak_kode"] not in data.health_trusts:
            problems.append(
                f"opptaksomrader-2024.csv: unknown health trust {row['helseforetak_kode']}"
            )
            continue
        data.catchments.setdefault(key, {})[row["helseforetak_kode"]] = Decimal(row["andel"])
    numbers_2023 = {v.number: key for key, v in data.on(D(2023, 1, 1)).items()}
    shipped_2023: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _rows(data_dir / "opptaksomrader.csv"):
        key = numbers_2023.get(row["kommunenummer"])
        if key is None:
            problems.append(f"opptaksomrader.csv: unknown municipality {row['kommunenummer']}")
            continue
        shipped_2023[key][row["helseforetak_kode"]] = int(row["befolkning"])
    for key, residents in shipped_2023.items():
        computed = split_population(
            data.municipalities[key].population[2023][0], data.catchments.get(key, {})
        )
        if computed != residents:
            problems.append(
                f"opptaksomrader.csv: {data.on(D(2023, 1, 1))[key].number} splits as "
                f"{residents}, the 2024 shares give {computed}"
            )


def in_midt_norge(data: ReferenceData, key: str) -> bool:
    return any(
        data.health_trusts[trust]["rha_code"] == MIDT_NORGE
        for trust in data.catchments.get(key, {})
    )


def check_invariants(data: ReferenceData) -> list[str]:
    """Every period's counts, every year's population sums, every municipality in a
    catchment with shares that add up to one."""
    problems = []
    for what, got, expected in (
        ("health trusts", len(data.health_trusts), EXPECTED_HEALTH_TRUSTS),
        (
            "regional health authorities",
            len(data.regional_health_authorities),
            EXPECTED_REGIONAL_HEALTH_AUTHORITIES,
        ),
    ):
        if got != expected:
            problems.append(f"expected {expected} {what}, found {got}")
    for start, (n_municipalities, n_counties, per_county, midt) in PERIOD_INVARIANTS.items():
        structure = data.on(start)
        counties = Counter(v.county for v in structure.values())
        label = f"from {start:%d.%m.%Y}"
        if len(structure) != n_municipalities:
            problems.append(
                f"{label}: expected {n_municipalities} municipalities, found {len(structure)}"
            )
        if len(counties) != n_counties:
            problems.append(f"{label}: expected {n_counties} counties, found {len(counties)}")
        if per_county is not None and dict(counties) != per_county:
            wrong = sorted(set(counties.items()) ^ set(per_county.items()))
            problems.append(f"{label}: municipalities per county differ: {wrong[:6]}")
        found_midt = sum(in_midt_norge(data, key) for key in structure)
        if found_midt != midt:
            problems.append(
                f"{label}: expected {midt} municipalities in Helse Midt-Norge, found {found_midt}"
            )
    for year, (total, outside) in POPULATION_INVARIANTS.items():
        structure = data.on(D(year, 1, 1))
        people = {
            key: data.municipalities[key].population.get(year, (0, 0))[0] for key in structure
        }
        if sum(people.values()) != total:
            problems.append(
                f"population 1.1.{year} sums to {sum(people.values())}, expected {total}"
            )
        got = sum(p for key, p in people.items() if not in_midt_norge(data, key))
        if got != outside:
            problems.append(
                f"population 1.1.{year} outside Helse Midt-Norge is {got}, expected {outside}"
            )
    for key, life in data.municipalities.items():
        shares = data.catchments.get(key)
        if not shares:
            problems.append(
                f"municipality {life.current.number} {life.current.name} is in no catchment area"
            )
        elif sum(shares.values()) != 1:
            total = sum(shares.values())
            problems.append(f"municipality {life.current.number}: catchment shares sum to {total}")
    return problems


def differences(shipped: ReferenceData, stored: ReferenceData) -> list[str]:
    """What in `stored` (the database) differs from `shipped` (actors/data), as
    `load_reference_data` would change it: one line per kind of record."""
    problems = []

    def lives(data: ReferenceData) -> dict:
        return {
            key: (
                life.valid_from,
                life.valid_to,
                tuple(v.as_tuple() for v in life.versions),
                tuple(sorted(life.predecessors)),
                tuple(sorted(life.population.items())),
            )
            for key, life in data.municipalities.items()
        }

    def shares(data: ReferenceData) -> dict:
        return {key: dict(s) for key, s in data.catchments.items()}

    sections = [
        ("regional health authorities", lambda d: d.regional_health_authorities),
        ("health trusts", lambda d: d.health_trusts),
        ("counties", lambda d: d.counties),
        ("municipalities", lives),
        ("catchment shares", shares),
    ]
    for what, get in sections:
        want, have = get(shipped), get(stored)
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        changed = sorted(k for k in set(want) & set(have) if want[k] != have[k])
        for label, keys in (("missing", missing), ("not in the reference", extra),
                            ("different", changed)):  # fmt: skip
            if keys:
                problems.append(f"{what} {label}: {', '.join(keys[:10])}")
    return problems
