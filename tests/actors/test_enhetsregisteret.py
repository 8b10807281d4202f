"""Enhetsregisteret extracts and HER-id lists (issue 16). The fixtures are a dozen
sub-units written for the project in the register's download formats (JSON and CSV, see
actors/enhetsregisteret.py): different industry codes, one closed unit and one unit under
Halden's number of before 2024 (3001)."""

import copy
import gzip
import json
from pathlib import Path

import pytest

from actors.imports import ImportFileError, import_organisations
from actors.models import IndustryCode, Organisation, OrganisationChange, OrganisationType
from actors.register_import import Limits

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "enhetsregisteret"
JSON = (FIXTURES / "underenheter.json").read_bytes()
CSV = (FIXTURES / "underenheter.csv").read_bytes()
RECORDS = json.loads(JSON)
CLOSED = "920000231"  # NEDLAGT LEGEKONTOR, nedleggelsesdato 2026-10-31
HALDEN = "920000134"  # beliggenhetsadresse.kommunenummer 3001
OPEN_TRACKED = {
    "920000118": ("fastlegekontor", "4601"),
    "920000126": ("fastlegekontor", "4601"),
    HALDEN: ("fastlegekontor", "3101"),
    "920000142": ("sykehjem", "4601"),
    "920000150": ("sykehjem", "5501"),
    "920000169": ("hjemmetjeneste", "4601"),
    "920000177": ("apotek", "4601"),
    "920000185": ("apotek", "5501"),
    "920000193": ("avtalespesialist", "4601"),
    "920000207": ("sykehus", "4601"),
}


@pytest.fixture
def importer(make_user):
    return make_user("coord_nat")


def registry() -> dict[str, tuple[str, str]]:
    return {
        o.orgnr: (o.type.code, o.municipality.number)
        for o in Organisation.objects.select_related("type", "municipality")
    }


def as_json(records, *, compress=False) -> bytes:
    raw = json.dumps(records, ensure_ascii=False).encode()
    return gzip.compress(raw) if compress else raw


@pytest.mark.parametrize("raw", [JSON, gzip.compress(JSON), CSV], ids=["json", "json.gz", "csv"])
def test_an_extract_imports_with_types_from_the_industry_codes(importer, raw):
    report = import_organisations(raw=raw, user=importer, source="Enhetsregisteret 2026-11-30")
    assert report.written, report.errors
    assert registry() == OPEN_TRACKED
    assert report.created == 10 and "Enhetsregisteret" in report.format
    skipped = report.skipped()
    # A restaurant and an IT consultancy are not types we track: skipped and counted.
    assert skipped["not_tracked"] == 2
    assert skipped["not_tracked_codes"] == {"56.101": 1, "62.010": 1}
    assert skipped["closed_not_in_registry"] == 1
    # The renumbered municipality is mapped and said.
    assert any("3001" in n.message and "3101" in n.message for n in report.notices)
    created = OrganisationChange.objects.filter(kind=OrganisationChange.Kind.CREATE)
    assert {c.reason for c in created} == {"Enhetsregisteret 2026-11-30"}


def test_the_mapping_is_data(importer):
    """A code added in the admin brings its units in; one removed leaves them out."""
    IndustryCode.objects.create(
        code="56.101",
        description="Drift av restauranter og kafeer",
        organisation_type=OrganisationType.objects.get(code="ohd"),
    )
    IndustryCode.objects.filter(code="47.730").delete()
    import_organisations(raw=JSON, user=importer)
    types = {code for code, _m in registry().values()}
    assert "ohd" in types and "apotek" not in types


def test_an_import_can_be_limited_to_municipalities_and_types(importer):
    report = import_organisations(raw=JSON, user=importer, limits=Limits(["4601"], []))
    assert {m for _t, m in registry().values()} == {"4601"} and report.created == 7
    assert report.skipped()["outside_limits"] == 3


def test_an_import_limited_to_a_type(importer):
    import_organisations(raw=CSV, user=importer, limits=Limits([], ["apotek"]))
    assert set(registry()) == {"920000177", "920000185"}


def test_limits_that_cannot_be_met_are_refused(importer):
    bad = import_organisations(raw=JSON, user=importer, limits=Limits(["1507"], ["tannlege"]))
    assert not bad.written and len(bad.errors) == 2
    assert "1508" in bad.errors[0].message and "tannlege" in bad.errors[1].message


def test_a_second_full_extract_creates_updates_and_deactivates_with_history(importer):
    import_organisations(raw=JSON, user=importer, source="Enhetsregisteret 2026-10-01")
    records = copy.deepcopy(RECORDS)
    by_number = {r["organisasjonsnummer"]: r for r in records}
    by_number["920000126"]["navn"] = "LAKSEVÅG LEGESENTER"  # renamed
    by_number["920000142"]["nedleggelsesdato"] = "2026-11-15"  # closed down
    records.remove(by_number["920000193"])  # gone from the register
    new = copy.deepcopy(by_number["920000118"])
    new["organisasjonsnummer"], new["navn"] = "920000258", "NYTT LEGEKONTOR BERGEN"
    records.append(new)
    raw = as_json(records, compress=True)
    before = OrganisationChange.objects.count()

    check = import_organisations(
        raw=raw, user=importer, dry_run=True, full=True, source="Enhetsregisteret 2026-11-30"
    )
    assert check.ok and not check.written
    assert [n.orgnr for n in check.new] == ["920000258"]
    assert [c.orgnr for c in check.changes] == ["920000126"]
    assert sorted(c.orgnr for c in check.deactivated) == ["920000142", "920000193"]
    assert OrganisationChange.objects.count() == before  # a dry run writes nothing

    done = import_organisations(
        raw=raw, user=importer, full=True, source="Enhetsregisteret 2026-11-30"
    )
    assert done.written
    assert Organisation.objects.get(orgnr="920000126").name == "LAKSEVÅG LEGESENTER"
    closed = Organisation.objects.get(orgnr="920000142")
    gone = Organisation.objects.get(orgnr="920000193")  # never deleted
    assert not closed.is_active and not gone.is_active
    why = {
        c.organisation.orgnr: c.reason
        for c in OrganisationChange.objects.filter(kind=OrganisationChange.Kind.DEACTIVATE)
    }
    assert "Enhetsregisteret 2026-11-30" in why["920000142"] and "15.11.2026" in why["920000142"]
    assert "Enhetsregisteret 2026-11-30" in why["920000193"]
    assert why["920000142"] != why["920000193"]


def test_without_full_a_missing_unit_is_left_alone(importer):
    import_organisations(raw=JSON, user=importer)
    fewer = [r for r in RECORDS if r["organisasjonsnummer"] != "920000193"]
    report = import_organisations(raw=as_json(fewer), user=importer)
    assert report.written and not report.deactivated
    assert Organisation.objects.get(orgnr="920000193").is_active


def test_a_new_unit_in_a_municipality_with_two_areas_is_listed_not_guessed(importer):
    oslo = copy.deepcopy(RECORDS[0])
    oslo["organisasjonsnummer"], oslo["beliggenhetsadresse"]["kommunenummer"] = "920000266", "0301"
    report = import_organisations(raw=as_json([oslo, RECORDS[1]]), user=importer)
    assert report.written and set(registry()) == {"920000126"}
    (listed,) = report.skipped()["needs_area"]
    assert listed["orgnr"] == "920000266" and "0301" in listed["municipality"]


def test_broken_downloads_are_refused(importer):
    with pytest.raises(ImportFileError):
        import_organisations(raw=JSON[: len(JSON) // 2], user=importer)
    with pytest.raises(ImportFileError):
        import_organisations(raw=gzip.compress(JSON)[:300], user=importer)
    assert not Organisation.objects.exists()


# --- HER-ids ----------------------------------------------------------------------------


def test_her_ids_fill_and_update_with_a_dry_run(importer):
    import_organisations(raw=JSON, user=importer)
    Organisation.objects.filter(orgnr="920000126").update(her_id=111)
    raw = (
        b"Organisasjonsnummer;HerId\n"
        b"920000118;81234\n"
        b"NO 920 000 126 MVA;95555\n"
        b"920000177;77777\n"
        b"974760673;12\n"  # an organisation we do not have
    )
    check = import_organisations(raw=raw, user=importer, dry_run=True)
    assert check.ok and check.updated == 3 and check.not_found == 1
    assert Organisation.objects.get(orgnr="920000126").her_id == 111
    import_organisations(raw=raw, user=importer, source="Adresseregisteret 2026-11-30")
    assert Organisation.objects.get(orgnr="920000126").her_id == 95555
    change = OrganisationChange.objects.get(organisation__orgnr="920000126", field="her_id")
    assert (change.old_value, change.new_value) == ("111", "95555")
    bad = import_organisations(raw=b"orgnr,her_id\n920000118,8.1E+04\n", user=importer)
    assert not bad.written and bad.errors[0].column == "her_id"


def test_the_upload_page_shows_the_three_lists_and_keeps_the_options(importer):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests.conftest import client_for

    client = client_for(importer)
    import_organisations(raw=JSON, user=importer)
    fewer = [r for r in RECORDS if r["organisasjonsnummer"] != "920000193"]
    page = client.post(
        reverse("actors:organisation_import"),
        {
            "file": SimpleUploadedFile("underenheter.json.gz", as_json(fewer, compress=True)),
            "source": "Enhetsregisteret 2026-11-30",
            "municipalities": "4601",
            "full": "on",
            "dry_run": "on",
        },
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert 'class="list import-deactivated"' in text and "ØYELEGE HANSEN" in text
    assert 'id="register-skipped"' in text and "56.101" in text
    assert 'value="Enhetsregisteret 2026-11-30"' in text and 'value="4601"' in text
    assert Organisation.objects.get(orgnr="920000193").is_active  # a dry run
    # The status import has no such options.
    status_page = client.get(reverse("rollout:status_import")).content.decode()
    assert 'name="full"' not in status_page and 'name="file"' in status_page
