import shutil

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
BERGEN_POPULATION = 289_330


def test_reference_structure_meets_its_invariants():
    assert Municipality.objects.count() == 356
    assert County.objects.count() == 11
    assert HealthTrust.objects.count() == 19
    assert RegionalHealthAuthority.objects.count() == 4
    assert Municipality.objects.aggregate(p=Sum("population"))["p"] == 5_488_984
    assert Catchment.objects.aggregate(p=Sum("population"))["p"] == 5_488_984
    for m in Municipality.objects.annotate(share=Sum("catchments__population")):
        assert m.share == m.population, m


def test_oslo_is_split_between_two_health_trusts_and_keeps_its_leading_zero():
    oslo = Municipality.objects.get(number="0301")
    shares = dict(oslo.catchments.values_list("health_trust__code", "population"))
    assert shares == {"akershus-universitetssykehus": 111_287, "oslo-universitetssykehus": 597_750}


def test_helse_midt_norge_membership_is_data():
    midt = Municipality.objects.filter(
        catchments__health_trust__regional_health_authority__code="helse-midt-norge"
    ).distinct()
    outside = Municipality.objects.exclude(pk__in=midt.values("pk"))
    assert midt.count() == 64
    assert outside.count() == 292
    assert outside.aggregate(p=Sum("population"))["p"] == 4_742_149


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
    _drop_line(broken_copy / "kommuner.csv", "4601,")
    with pytest.raises(ReferenceDataError) as exc:
        read_reference(broken_copy)
    problems = " ".join(exc.value.problems)
    assert "expected 356 municipalities, found 355" in problems
    assert "population sums to" in problems
    assert "unknown municipality 4601" in problems


def test_uncovered_municipality_is_refused(broken_copy):
    _drop_line(broken_copy / "opptaksomrader.csv", "4601,")
    with pytest.raises(ReferenceDataError) as exc:
        read_reference(broken_copy)
    assert any("4601 Bergen is in no catchment area" in p for p in exc.value.problems)


def test_command_refuses_and_writes_nothing(broken_copy, monkeypatch):
    from django.core.management.base import CommandError

    from actors import reference

    _drop_line(broken_copy / "helseforetak.csv", "unn,")
    monkeypatch.setattr(reference, "DATA_DIR", broken_copy)
    before = HealthTrust.objects.count()
    with pytest.raises(CommandError, match="expected 19 health trusts, found 18"):
        call_command("load_reference_data")
    assert HealthTrust.objects.count() == before


def test_check_passes_on_the_loaded_structure_and_writes_nothing(capsys):
    # With the system checks, as from the command line (call_command skips them).
    call_command("load_reference_data", "--check", skip_checks=False)
    assert "invariants hold" in capsys.readouterr().out


def test_check_fails_on_a_broken_database_and_repairs_nothing():
    Municipality.objects.filter(number="4601").update(population=1)
    Catchment.objects.filter(municipality__number="0301").first().delete()
    with pytest.raises(CommandError) as exc:
        call_command("load_reference_data", "--check")
    message = str(exc.value)
    assert "municipal population sums to" in message
    assert "municipalities different: 4601" in message
    assert "catchment shares differ: 0301/" in message
    assert Municipality.objects.get(number="4601").population == 1


def test_the_official_2023_names_are_loaded_with_the_corrections():
    """The reference folder corrected the 2023 list: 5006 had a corrupted name and several
    Sami names had lost letters or their Sami part."""
    names = dict(Municipality.objects.values_list("number", "name"))
    assert names["5006"] == "Steinkjer"
    assert names["1826"] == "Aarborte - Hattfjelldal"
    assert names["1853"] == "Evenes - Evenášši"
    assert names["5437"] == "Kárášjohka - Karasjok"
    assert names["5412"] == "Dielddanuorri - Tjeldsund"
