import pytest
from django.core.management import call_command
from django.db.models import Count
from stdnum.no import orgnr

from actors.demo import allocate
from actors.models import Municipality, Organisation

pytestmark = pytest.mark.django_db


def test_allocate_is_proportional_with_a_floor():
    # 3 go to the floor; the other 7 split 0.7 / 0.7 / 5.6, remainders rounded up largest first.
    result = allocate(10, {"a": 1, "b": 1, "c": 8}, minimum=1)
    assert result == {"a": 2, "b": 2, "c": 6}
    assert sum(allocate(1500, {i: i + 1 for i in range(356)}, minimum=1).values()) == 1500


def test_seed_demo_builds_the_registry_once_and_deterministically(capsys):
    call_command("seed_demo", "--seed", "7")
    counts = dict(Organisation.objects.values_list("type__code").annotate(n=Count("id")))
    assert counts == {
        "fastlegekontor": 1500,
        "sykehjem": 1000,
        "apotek": 1000,
        "avtalespesialist": 1500,
        "sykehus": 40,
        "hjemmetjeneste": 357,
        "legevakt": 357,
        "ohd": 357,
        "kommune": 357,
    }
    assert not Organisation.objects.filter(is_synthetic=False).exists()
    assert all(orgnr.is_valid(n) for n in Organisation.objects.values_list("orgnr", flat=True))
    for code in ("fastlegekontor", "sykehjem"):
        covered = Municipality.objects.filter(organisations__type__code=code).distinct().count()
        assert covered == 357, code
    oslo = Organisation.objects.filter(municipality__number="0301")
    assert set(oslo.values_list("health_trust__code", flat=True)) == {
        "akershus-universitetssykehus",
        "oslo-universitetssykehus",
    }
    first = sorted(Organisation.objects.values_list("orgnr", "name", "municipality__number"))
    capsys.readouterr()

    call_command("seed_demo", "--seed", "7")
    assert "nothing changed" in capsys.readouterr().out
    assert (
        sorted(Organisation.objects.values_list("orgnr", "name", "municipality__number")) == first
    )

    with pytest.raises(Exception, match="another seed"):
        call_command("seed_demo", "--seed", "8")
