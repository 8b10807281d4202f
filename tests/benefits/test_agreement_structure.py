"""Agreement coverage across the 2024 change (issue 15): a day is read in the structure of
that day (356 municipalities in 11 counties in 2023, 357 in 15 from 2024) with the
population of the chosen year (default: the day's), every year's residents counted in the
municipality of the day they belong to. The expected figures come from the shipped
population files, read here independently of the application."""

import csv
import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from actors.models import Municipality, MunicipalityPopulation
from actors.structure import StructureOn
from benefits import selectors
from rollout.models import Solution
from tests.benefits.test_agreement_as_of import agreement
from tests.conftest import api_client_for, client_for
from tests.factories import valid_orgnr

pytestmark = pytest.mark.django_db
D = datetime.date
DATA = Path(__file__).resolve().parents[2] / "actors" / "data"
# Helse Midt-Norge: 64 municipalities until 2023, 65 from 2024 (Haram); 292 outside both.
OUTSIDE = 292


def shipped_population(year: int) -> dict[str, int]:
    """{number in that year's structure: residents 1 January} straight from the file."""
    with (DATA / f"befolkning-{year}.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    number = next(k for k in rows[0] if "nummer" in k)
    residents = next(k for k in rows[0] if k in ("folkemengde", "befolkning", "population"))
    return {r[number]: int(r[residents]) for r in rows}


@pytest.fixture
def nat(make_user):
    return make_user("coord_nat")


def test_a_day_in_2023_is_read_in_the_structure_and_population_of_2023():
    c = selectors.agreement_coverage(on=D(2023, 6, 30))
    assert (c.structure_municipalities, c.structure_counties) == (356, 11)
    assert c.population_year == 2023
    assert c.nation.municipalities == OUTSIDE
    # Counties outside Helse Midt-Norge that day: 9 of the 11 (Viken is one of them).
    names = {r.name for r in c.by_county}
    assert len(names) == 9 and "Viken" in names and "Østfold" not in names
    assert c.nation.population == sum(r.population for r in c.by_county)
    assert c.nation.population == sum(r.population for r in c.by_area)


def test_a_day_in_2025_is_read_in_the_structure_and_population_of_2025():
    c = selectors.agreement_coverage(on=D(2025, 6, 30))
    assert (c.structure_municipalities, c.structure_counties) == (357, 15)
    assert c.population_year == 2025
    assert c.nation.municipalities == OUTSIDE
    names = {r.name for r in c.by_county}
    assert "Viken" not in names and "Østfold" in names and len(names) == 13
    expected = sum(
        MunicipalityPopulation.objects.get(year=2025, municipality_id=pk).population
        for pk in selectors.outside_region_ids(StructureOn(D(2025, 6, 30)))
    )
    assert c.nation.population == expected


def test_any_year_can_be_read_in_any_days_structure():
    """2026's residents on a day in 2023: Haram's are counted in Ålesund (1507)."""
    structure = StructureOn(D(2023, 6, 30))
    residents = structure.population(2026)
    file = shipped_population(2026)
    alesund = Municipality.objects.get(number="1508")
    assert residents[alesund.pk] == file["1508"] + file["1580"]
    assert Municipality.objects.get(number="1580").pk not in residents
    assert sum(residents.values()) == sum(file.values())
    c = selectors.agreement_coverage(on=D(2023, 6, 30), year=2026)
    assert c.population_year == 2026
    assert (c.structure_municipalities, c.structure_counties) == (356, 11)


def test_a_covered_municipality_counts_with_that_years_population(nat):
    agreement(nat, ["4601"], D(2020, 5, 1))
    bergen = Municipality.objects.get(number="4601")
    for year in (2023, 2024, 2025, 2026):
        c = selectors.agreement_coverage(on=D(year, 6, 30))
        assert c.nation.covered_population == bergen.populations.get(year=year).population


def test_the_page_and_the_api_say_which_structure_and_year(directorate):
    with translation.override("nb"):
        page = client_for(directorate).get(
            reverse("benefits:agreement_coverage"), {"on": "2023-06-30", "year": "2026"}
        )
    text = page.content.decode()
    assert page.context["coverage"].population_year == 2026
    assert "30.06.2023" in text and "356" in text and "2026" in text
    # The municipalities without an agreement are listed as they were that day.
    drammen = next(r for r in page.context["gaps"] if r.name == "Drammen")
    assert (drammen.key, drammen.parent) == ("3005", "Viken")
    assert drammen.url == "/kommuner/3301/"
    api = api_client_for(directorate)
    data = api.get(reverse("intentagreement-coverage"), {"on": "2025-06-30"}).json()
    assert data["structure_day"] == "2025-06-30" and data["population_year"] == 2025
    refused = api.get(reverse("intentagreement-coverage"), {"year": "1999"})
    assert refused.status_code == 400
    assert "2023" in str(refused.json()) and "2026" in str(refused.json())


def test_an_organisation_is_covered_through_the_municipality_it_was_in_that_day(nat):
    """Moved from Bergen to Tromsø today: on a past day Bergen's agreement covered it."""
    from actors import services as registry_services
    from actors.models import Organisation, OrganisationType

    solution = Solution.objects.get(code="kjernejournal")
    agreement(nat, ["4601"], D(2020, 5, 1))
    moved = registry_services.organisation_create(
        user=nat,
        name="Flytter legesenter",
        orgnr=valid_orgnr(7711),
        type=OrganisationType.objects.get(code="fastlegekontor"),
        municipality=Municipality.objects.get(number="4601"),
    )
    registry_services.organisation_update(
        user=nat,
        organisation_id=moved.pk,
        expected_version=moved.version,
        municipality=Municipality.objects.get(number="5501"),
        health_trust=None,
    )
    assert Organisation.objects.get(pk=moved.pk).municipality.number == "5501"
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert selectors.covered_organisation_ids(solution, [moved.pk], on=yesterday) == {moved.pk}
    assert selectors.covered_organisation_ids(solution, [moved.pk]) == set()
