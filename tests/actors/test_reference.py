import shutil
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from actors.models import (
    Catchment,
    County,
    HealthTrust,
    Municipality,
    RegionalHealthAuthority,
)
from actors.reference import DATA_DIR, ReferenceDataError, read_reference

pytestmark = pytest.mark.django_db
BERGEN_POPULATION = 294_860  # 1.1.2026


def test_reference_structure_meets_its_invariants():
    # Today (2026): 357 municipalities in 15 counties, population 1.1.2026.
    assert Municipality.objects.current().count() == 357
    assert County.objects.current().count() == 15
    assert HealthTrust.objects.count() == 19
    assert RegionalHealthAuthority.objects.count() == 4
    assert Municipality.objects.current().aggregate(p=Sum("population"))["p"] == 5_627_400
    assert Catchment.objects.aggregate(p=Sum("population"))["p"] == 5_627_400
    for m in Municipality.objects.current().annotate(share=Sum("catchments__population")):
        assert m.share == m.population, m


def test_oslo_is_split_between_two_health_trusts_and_keeps_its_leading_zero():
    oslo = Municipality.objects.get(number="0301")
    shares = dict(oslo.catchments.values_list("health_trust__code", "population"))
    assert shares == {
        "akershus-universitetssykehus": 114_375,
        "oslo-universitetssykehus": 614_339,
    }


def test_helse_midt_norge_membership_is_data():
    midt = (
        Municipality.objects.filter(
            catchments__health_trust__regional_health_authority__code="helse-midt-norge"
        )
        .current()
        .distinct()
    )
    outside = Municipality.objects.current().exclude(pk__in=midt.values("pk"))
    assert midt.count() == 65  # today: 1580 Haram split from 1507 Ålesund in 2024
    assert outside.count() == 292
    assert outside.aggregate(p=Sum("population"))["p"] == 4_865_065


def test_second_load_changes_nothing_and_says_so(capsys):
    call_command("load_reference_data")
    assert "nothing changed" in capsys.readouterr().out


def test_load_repairs_a_changed_value(capsys):
    Municipality.objects.filter(number="4601").update(population=1)
    call_command("load_reference_data")
    assert "municipalities: 1 updated" in capsys.readouterr().out
    assert Municipality.objects.get(number="4601").population == BERGEN_POPULATION


@pytest.fixture
def broken_copy(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


def _drop_line(path, startswith):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith(startswith)), "utf-8")


def test_missing_municipality_is_refused(broken_copy):
    # Bergen missing from today's list (2026): no change leads to it away, so refused.
    _drop_line(broken_copy / "kommuner-2026.csv", "4601,")
    with pytest.raises(ReferenceDataError) as exc:
        read_reference(broken_copy)
    problems = " ".join(exc.value.problems)
    assert "4601" in problems
    assert "endringer-2026.csv" in problems


def test_uncovered_municipality_is_refused(broken_copy):
    _drop_line(broken_copy / "opptaksomrader-2024.csv", "4601,")
    _drop_line(broken_copy / "opptaksomrader.csv", "4601,")
    with pytest.raises(ReferenceDataError) as exc:
        read_reference(broken_copy)
    assert any("4601 Bergen is in no catchment area" in p for p in exc.value.problems), (
        exc.value.problems
    )


def test_command_refuses_and_writes_nothing(broken_copy, monkeypatch):
    from django.core.management.base import CommandError

    from actors import reference

    _drop_line(broken_copy / "helseforetak.csv", "unn,")
    monkeypatch.setattr(reference, "DATA_DIR", broken_copy)
    before = HealthTrust.objects.count()
    with pytest.raises(CommandError, match="unknown health trust unn"):
        call_command("load_reference_data")
    assert HealthTrust.objects.count() == before


def test_check_passes_on_the_loaded_structure_and_writes_nothing(capsys):
    # With the system checks, as from the command line (call_command skips them).
    call_command("load_reference_data", "--check", skip_checks=False)
    assert "invariants hold" in capsys.readouterr().out


def test_check_fails_on_a_broken_database_and_repairs_nothing():
    from actors.models import MunicipalityPopulation

    Municipality.objects.filter(number="4601").update(population=1)
    MunicipalityPopulation.objects.filter(municipality__number="4601", year=2026).update(
        population=1
    )
    Catchment.objects.filter(municipality__number="0301").first().delete()
    with pytest.raises(CommandError) as exc:
        call_command("load_reference_data", "--check")
    message = str(exc.value)
    assert "population 1.1.2026 sums to" in message
    assert "municipalities different: 4601" in message
    assert "catchment shares different: 0301" in message
    assert Municipality.objects.get(number="4601").population == 1


def test_check_notices_a_municipalitys_own_population_copy():
    """The latest year is also stored on the municipality (pages read it there). Tromsø is
    named by its identity, its first number (5401)."""
    Municipality.objects.filter(number="5501").update(population=2)
    with pytest.raises(CommandError, match="municipalities different: 5401"):
        call_command("load_reference_data", "--check")


def test_the_official_2023_names_are_loaded_with_the_corrections():
    """The reference folder corrected the 2023 list: 5006 had a corrupted name and several
    Sami names had lost letters or their Sami part."""
    from actors.models import MunicipalityVersion

    names = dict(
        MunicipalityVersion.objects.filter(valid_from__lte=date(2023, 6, 1))
        .exclude(valid_to__lt=date(2023, 6, 1))
        .values_list("number", "name")
    )
    assert names["5006"] == "Steinkjer"
    assert names["1826"] == "Aarborte - Hattfjelldal"
    assert names["1853"] == "Evenes - Evenášši"
    assert names["5437"] == "Kárášjohka - Karasjok"
    assert names["5412"] == "Dielddanuorri - Tjeldsund"


def test_the_structure_on_a_2023_day_and_today():
    day_2023 = date(2023, 6, 1)
    assert Municipality.objects.on(day_2023).count() == 356
    assert County.objects.on(day_2023).count() == 11
    assert Municipality.objects.current().count() == 357
    assert County.objects.current().count() == 15
    halden = Municipality.objects.get(number="3101")
    assert halden.versions.get(valid_from__lte=day_2023, valid_to__gte=day_2023).number == "3001"
    assert Municipality.objects.on(day_2023).filter(number="1580").count() == 0


def test_load_moves_a_2023_database_forward_by_identity():
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(municipality__number="3101", name="Halden legesenter")
    halden = organisation.municipality
    # Back to the 2023 numbering, as a database loaded before 2024 had it.
    Municipality.objects.filter(pk=halden.pk).update(number="3001")
    call_command("load_reference_data", verbosity=0)
    organisation.refresh_from_db()
    assert organisation.municipality.pk == halden.pk
    assert (organisation.municipality.number, organisation.municipality.name) == ("3101", "Halden")


def test_numbers_today_earlier_refused_and_unknown():
    from actors.numbers import resolve_number

    assert resolve_number("3101").municipality.number == "3101"
    mapped = resolve_number("3001")
    assert (mapped.municipality.number, mapped.municipality.name) == ("3101", "Halden")
    assert "3101" in mapped.notice
    split = resolve_number("1507")
    assert split.municipality is None
    assert "1508" in split.error and "1580" in split.error
    zero = resolve_number("301")
    assert zero.municipality is None and "0301" in zero.error
    unknown = resolve_number("9999")
    assert unknown.municipality is None and "9999" in unknown.error


def test_registry_import_takes_todays_numbers_and_maps_2023_ones_with_notices(make_user):
    from actors.imports import import_organisations
    from actors.models import Organisation
    from tests.factories import valid_orgnr

    importer = make_user("coord_nat")
    today = ["3101", "3203", "3301", "3905", "4003", "5501", "5603", "1508", "1580"]
    rows = [f"{valid_orgnr(9100 + i)},Kontor {n},fastlegekontor,{n}" for i, n in enumerate(today)]
    header = "organisasjonsnummer,navn,type,kommunenummer\n"
    report = import_organisations(raw=(header + "\n".join(rows) + "\n").encode(), user=importer)
    assert report.ok, report.errors
    assert not report.notices
    assert sorted(
        Organisation.objects.filter(name__startswith="Kontor ").values_list(
            "municipality__number", flat=True
        )
    ) == sorted(today)

    old = {"3001": "3101", "3005": "3301", "5401": "5501", "3807": "4003"}
    rows = [f"{valid_orgnr(9200 + i)},Gammel {n},fastlegekontor,{n}" for i, n in enumerate(old)]
    report = import_organisations(raw=(header + "\n".join(rows) + "\n").encode(), user=importer)
    assert report.ok, report.errors
    assert len(report.notices) == len(old)
    for i, (before, now) in enumerate(old.items()):
        organisation = Organisation.objects.get(orgnr=valid_orgnr(9200 + i))
        assert organisation.municipality.number == now
        assert any(before in str(vars(n)) and now in str(vars(n)) for n in report.notices)
