"""Coverage across the 2024 change (issue 15): each day is counted in the municipal
structure of that day (356 municipalities in 11 counties before 2024, 357 in 15 after;
Haram's organisations in Ålesund before the split) and on the registry of that day, so
rebuilding the history gives the snapshots stored at the time."""

import datetime

import pytest
from django.urls import reverse

from actors import registry, services
from actors.models import County, Municipality, OrganisationType, OrganisationVersion
from actors.scoping import SYSTEM_USER
from actors.structure import StructureOn
from benefits import coverage
from benefits import services as benefit_services
from benefits.choices import Level
from benefits.models import CoverageSnapshot, CoverageTarget
from rollout.models import Solution
from rollout.services import HistoryEntry, status_history_load
from tests.factories import OrganisationFactory, valid_orgnr

pytestmark = pytest.mark.django_db

D = datetime.date
NATION = (Level.NATION, 0)
IN_2023, IN_2025 = D(2023, 6, 30), D(2025, 6, 30)


def municipality(number: str) -> Municipality:
    return Municipality.objects.get(number=number)


def history(*changes):
    """(organisation, solution code, status, day) through the service."""
    solutions = {s.code: s.pk for s in Solution.objects.all()}
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(o.pk, solutions[code], status, day, "why")
            for o, code, status, day in changes
        ],
    )


def test_the_kjernejournal_target_counts_the_municipalities_of_the_day(db):
    target = CoverageTarget.objects.get(code="kjernejournal-plo")
    values = coverage.compute(target, [IN_2023, IN_2025])
    assert values[IN_2023][NATION] == (0, 356)
    assert values[IN_2025][NATION] == (0, 357)
    municipalities = {
        day: {scope for level, scope in v if level == Level.MUNICIPALITY}
        for day, v in values.items()
    }
    assert municipality("1580").pk not in municipalities[IN_2023]
    assert municipality("1580").pk in municipalities[IN_2025]


def test_county_level_is_the_counties_of_the_day(db):
    target = CoverageTarget.objects.get(code="kjernejournal-plo")
    values = coverage.compute(target, [IN_2023, IN_2025])
    counties = {
        day: {scope for level, scope in v if level == Level.COUNTY} for day, v in values.items()
    }
    assert len(counties[IN_2023]) == 11 and len(counties[IN_2025]) == 15
    assert counties[IN_2023] == set(County.objects.on(IN_2023).values_list("pk", flat=True))
    viken = County.objects.get(name="Viken")
    assert viken.pk in counties[IN_2023] and viken.pk not in counties[IN_2025]
    # Per county, the municipalities of the day: Viken's 51 in 2023.
    assert values[IN_2023][(Level.COUNTY, viken.pk)] == (0, 51)


def test_harams_organisations_count_in_alesund_before_the_split(db):
    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    haram, alesund = municipality("1580"), municipality("1508")
    office = OrganisationFactory(municipality=haram)
    history((office, "e-multidose", "i_bruk", D(2022, 1, 1)))
    values = coverage.compute(target, [IN_2023, IN_2025])
    assert values[IN_2023][(Level.MUNICIPALITY, alesund.pk)] == (1, 1)
    assert (Level.MUNICIPALITY, haram.pk) not in values[IN_2023]
    assert values[IN_2025][(Level.MUNICIPALITY, haram.pk)] == (1, 1)
    assert (Level.MUNICIPALITY, alesund.pk) not in values[IN_2025]
    # Both in Møre og Romsdal on both days.
    county = StructureOn(IN_2023).county_of(alesund.pk)
    assert values[IN_2023][(Level.COUNTY, county)] == (1, 1)


# --- rebuilding the history ------------------------------------------------------------

TARGETS = ["kjernejournal-plo", "e-multidose-legekontor"]
START, END = D(2023, 1, 10), D(2025, 6, 30)


def create(admin, name, type_code, number, n):
    return services.organisation_create(
        user=admin,
        name=name,
        type=OrganisationType.objects.get(code=type_code),
        orgnr=valid_orgnr(8000 + n),
        municipality=municipality(number),
    )


def backfill() -> dict:
    job = benefit_services.coverage_job_request(
        user=SYSTEM_USER,
        kind="coverage_backfill",
        params={"targets": TARGETS, "start": START.isoformat(), "end": END.isoformat(),
                "every": "month"},
    )  # fmt: skip
    benefit_services.coverage_job_run(job)
    job.refresh_from_db()
    assert job.state == job.State.DONE, job.message
    return {
        (code, day, level, scope): (num, den)
        for code, day, level, scope, num, den in CoverageSnapshot.objects.filter(
            target__code__in=TARGETS
        ).values_list("target__code", "day", "level", "scope_id", "numerator", "denominator")
    }


@pytest.fixture
def stored(users):
    """A small registry with its history, and the snapshots computed from it."""
    admin = users["admin"]
    orgs = {
        "bergen_home": create(admin, "Hjemmetjenesten i Bergen", "hjemmetjeneste", "4601", 1),
        "bergen_care": create(admin, "Bergen sykehjem", "sykehjem", "4601", 2),
        "tromso_home": create(admin, "Hjemmetjenesten i Tromsø", "hjemmetjeneste", "5501", 3),
        "tromso_care": create(admin, "Tromsø sykehjem", "sykehjem", "5501", 4),
        "bergen_gp": create(admin, "Bergen legesenter", "fastlegekontor", "4601", 5),
        "haram_gp": create(admin, "Haram legesenter", "fastlegekontor", "1580", 6),
    }
    history(
        (orgs["bergen_home"], "kjernejournal", "i_bruk", D(2023, 2, 1)),
        (orgs["bergen_care"], "kjernejournal", "i_bruk", D(2023, 3, 1)),
        (orgs["tromso_care"], "kjernejournal", "i_bruk", D(2023, 5, 1)),
        (orgs["bergen_gp"], "e-multidose", "i_bruk", D(2023, 1, 10)),
        (orgs["haram_gp"], "e-multidose", "i_bruk", D(2024, 3, 1)),
    )
    return admin, orgs, backfill()


def change_the_registry(admin, orgs) -> None:
    """Today, after the snapshots were stored: Bergen's nursing home and GP office move to
    Tromsø, Tromsø's home care closes."""
    tromso = municipality("5501")
    for key in ("bergen_care", "bergen_gp"):
        services.organisation_update(
            user=admin, organisation_id=orgs[key].pk, expected_version=1, municipality=tromso
        )
    services.organisation_update(
        user=admin, organisation_id=orgs["tromso_home"].pk, expected_version=1, is_active=False
    )


def test_rebuilding_the_history_gives_the_stored_snapshots(stored):
    admin, orgs, before = stored
    tromso, bergen = municipality("5501").pk, municipality("4601").pk
    # Stored at the time: Bergen counted for kjernejournal from March 2023, Tromsø never
    # (its home care had not started); the GP office counted in Bergen.
    assert before[("kjernejournal-plo", D(2023, 3, 31), Level.MUNICIPALITY, bergen)] == (1, 1)
    assert before[("kjernejournal-plo", D(2023, 5, 31), Level.MUNICIPALITY, tromso)] == (0, 1)
    assert before[("e-multidose-legekontor", D(2023, 1, 31), Level.MUNICIPALITY, bergen)] == (
        1,
        1,
    )
    change_the_registry(admin, orgs)
    assert registry.changed_after(START) == {
        orgs[k].pk for k in ("bergen_care", "bergen_gp", "tromso_home")
    }
    assert backfill() == before


def test_without_the_registry_replay_the_rebuild_would_differ(stored, monkeypatch):
    admin, orgs, before = stored
    change_the_registry(admin, orgs)
    nothing = OrganisationVersion.objects.none().values("organisation_id")
    monkeypatch.setattr(registry, "changed_after", lambda day: set())
    monkeypatch.setattr(registry, "changed_after_query", lambda day: nothing)
    after = backfill()
    tromso = municipality("5501").pk
    differ = {key for key in before if after.get(key) != before[key]}
    # Today's registry in the past: Tromsø would count from May 2023, the GP office in
    # Tromsø.
    assert ("kjernejournal-plo", D(2023, 5, 31), Level.MUNICIPALITY, tromso) in differ
    assert after[("e-multidose-legekontor", D(2023, 1, 31), Level.MUNICIPALITY, tromso)] == (
        1,
        1,
    )


# --- a county's series across the change ----------------------------------------------


def test_a_new_countys_series_runs_from_the_municipalities_it_has_today(users):
    """Vestfold exists from 2024; before, Tønsberg was in Vestfold og Telemark. Vestfold's
    series sums its municipalities on the earlier days and the page says so."""
    from benefits.coverage import ScopeRef, scope_options, target_statuses
    from tests.conftest import client_for

    target = CoverageTarget.objects.get(code="e-multidose-legekontor")
    office = OrganisationFactory(municipality=municipality("3905"))  # Tønsberg
    OrganisationFactory(municipality=municipality("3905"))
    history((office, "e-multidose", "i_bruk", D(2022, 1, 1)))
    benefit_services.snapshots_store(target, coverage.compute(target, [IN_2023, IN_2025]))
    vestfold = County.objects.current().get(name="Vestfold")
    (status,) = target_statuses([target], ScopeRef(Level.COUNTY, vestfold.pk, "county:39", ""))
    assert status.series == [(IN_2023, 1, 2), (IN_2025, 1, 2)]
    assert status.mapped_until == IN_2023
    counties = [o for o in scope_options(users["directorate"]) if o.level == Level.COUNTY]
    assert len(counties) == 15
    response = client_for(users["directorate"]).get(
        reverse("benefits:target_detail", args=[target.code]),
        {"scope": f"county:{vestfold.number}"},
    )
    assert response.status_code == 200
    assert "30.06.2023" in response.content.decode()
