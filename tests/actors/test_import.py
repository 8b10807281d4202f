import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from actors.imports import ImportFileError, import_organisations
from actors.models import Organisation
from tests.conftest import client_for
from tests.factories import OrganisationFactory, valid_orgnr

pytestmark = pytest.mark.django_db

HEADER = "organisasjonsnummer,navn,type,kommunenummer,her_id,helseforetak\n"
A, B, C = valid_orgnr(9001), valid_orgnr(9002), valid_orgnr(9003)


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode("utf-8")


@pytest.fixture
def importer(make_user):
    return make_user("coord_nat")


def test_happy_path_creates_every_row(importer):
    raw = csv(
        f"{A},Fjellsiden legesenter,fastlegekontor,4601,12345,",
        f"{B},Byhaven sykehjem,Sykehjem,4601,,",
        f"{C},Grünerløkka apotek,APOTEK,0301,,oslo-universitetssykehus",
    )
    report = import_organisations(raw=raw, user=importer)
    assert report.ok and report.written
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    a = Organisation.objects.get(orgnr=A)
    assert a.name == "Fjellsiden legesenter"
    assert a.her_id == 12345
    assert a.health_trust.code == "helse-bergen"
    assert not a.is_synthetic
    assert Organisation.objects.get(orgnr=B).type.code == "sykehjem"
    assert Organisation.objects.get(orgnr=C).health_trust.code == "oslo-universitetssykehus"


def test_existing_orgnr_updates_and_unchanged_rows_are_counted(importer):
    OrganisationFactory(orgnr=A, name="Gammelt navn", municipality__number="4601")
    OrganisationFactory(orgnr=B, name="Byhaven sykehjem", municipality__number="4601")
    before = Organisation.objects.count()
    raw = csv(f"{A},Nytt navn,fastlegekontor,4601,,", f"{B},Byhaven sykehjem,fastlegekontor,4601,,")
    report = import_organisations(raw=raw, user=importer)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Organisation.objects.count() == before
    updated = Organisation.objects.get(orgnr=A)
    assert updated.name == "Nytt navn"
    assert updated.version == 2


def test_dry_run_reports_without_writing(importer):
    report = import_organisations(
        raw=csv(f"{A},Fjellsiden legesenter,fastlegekontor,4601,,"), user=importer, dry_run=True
    )
    assert report.ok and not report.written and report.created == 1
    assert not Organisation.objects.filter(orgnr=A).exists()


BAD_ROWS = [
    # (row, column, words in the message)
    ("974760674,Feil sjekksiffer,fastlegekontor,4601,,", "organisasjonsnummer", "kontrollsiffer"),
    ("12345,For kort,fastlegekontor,4601,,", "organisasjonsnummer", "ni sifre"),
    (f"{B},Ukjent kommune,fastlegekontor,9999,,", "kommunenummer", "Ukjent kommunenummer"),
    (f"{B},Ukjent type,tannlege,4601,,", "type", "Ukjent type"),
    (f"{A},Duplikat,fastlegekontor,4601,,", "organisasjonsnummer", "første gang på linje 2"),
    (f"{B},,fastlegekontor,4601,,", "navn", "Navn mangler"),
    (f"{B},Oslo uten område,fastlegekontor,0301,,", "helseforetak", "mer enn ett"),
    (f"{B},Feil område,fastlegekontor,4601,,unn", "helseforetak", "ikke i opptaksområdet"),
    (
        f"{B},Ukjent område,fastlegekontor,4601,,finnes-ikke",
        "helseforetak",
        "Ukjent helseforetakskode",
    ),
    (f"{B},Negativ HER,fastlegekontor,4601,-5,", "her_id", "positivt heltall"),
]


@pytest.mark.parametrize(("bad_row", "column", "words"), BAD_ROWS)
def test_each_bad_row_is_reported_and_nothing_is_written(importer, bad_row, column, words):
    raw = csv(f"{A},Fjellsiden legesenter,fastlegekontor,4601,,", bad_row)
    report = import_organisations(raw=raw, user=importer)
    assert not report.written
    assert [(e.line, e.column) for e in report.errors] == [(3, column)]
    assert words in report.errors[0].message
    assert not Organisation.objects.filter(orgnr__in=[A, B]).exists()


def test_windows_1252_with_semicolons_as_excel_writes_it(importer):
    text = (
        "Organisasjonsnummer;Navn;Type;Kommunenummer\r\n"
        f"{A};Tromsø legesenter;Fastlegekontor;5401\r\n"
        f"{B};Ålesund sykehjem;sykehjem;1507\r\n"
    )
    report = import_organisations(raw=text.encode("cp1252"), user=importer)
    assert report.ok, report.errors
    assert (report.encoding, report.delimiter) == ("windows-1252", ";")
    assert Organisation.objects.get(orgnr=A).name == "Tromsø legesenter"


def test_utf8_bom_tabs_any_column_order_and_excel_dropped_zero(importer):
    text = (
        "kommunenummer\tnavn\torganisasjonsnummer\ttype\r\n"
        f"301\tSagene legesenter\t{A}\tlegekontor\r\n"
    )
    raw = b"\xef\xbb\xbf" + text.encode("utf-8")
    report = import_organisations(raw=raw, user=importer)
    # 301 was read as Oslo (0301): the only complaint is Oslo's two areas.
    assert [(e.line, e.column) for e in report.errors] == [(2, "helseforetak")]
    assert "Oslo" in report.errors[0].message
    assert report.encoding == "utf-8-sig"
    assert report.delimiter == "\t"


def test_missing_required_column_is_a_file_error(importer):
    with pytest.raises(ImportFileError, match="kommunenummer"):
        import_organisations(raw=b"organisasjonsnummer,navn,type\n1,2,3\n", user=importer)


def test_area_coordinator_cannot_import_outside_their_area(make_user):
    coordinator = make_user("coord_area")  # Helse Bergen
    raw = csv(
        f"{A},Bergen legesenter,fastlegekontor,4601,,", f"{B},Tromsø lege,fastlegekontor,5401,,"
    )
    report = import_organisations(raw=raw, user=coordinator)
    assert [(e.line, e.column) for e in report.errors] == [(3, "kommunenummer")]
    assert "utenfor" in report.errors[0].message
    assert not Organisation.objects.filter(orgnr__in=[A, B]).exists()


def test_command_dry_run_and_real_run(tmp_path, capsys):
    path = tmp_path / "registry.csv"
    path.write_bytes(csv(f"{A},Fjellsiden legesenter,fastlegekontor,4601,,"))
    call_command("import_organisations", str(path), "--dry-run")
    assert "dry run" in capsys.readouterr().out
    assert not Organisation.objects.filter(orgnr=A).exists()
    call_command("import_organisations", str(path))
    assert "1 created" in capsys.readouterr().out
    assert Organisation.objects.filter(orgnr=A).exists()


def test_command_fails_with_row_errors(tmp_path):
    path = tmp_path / "registry.csv"
    path.write_bytes(csv("974760674,Feil,fastlegekontor,4601,,"))
    with pytest.raises(CommandError, match="line 2, organisasjonsnummer"):
        call_command("import_organisations", str(path))


def test_upload_page_lists_row_errors_and_saves_nothing(importer):
    client = client_for(importer)
    upload = SimpleUploadedFile(
        "registry.csv", csv(f"{A},OK,fastlegekontor,4601,,", f"{B},Feil,fastlegekontor,9999,,")
    )
    response = client.post(reverse("actors:organisation_import"), {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert [(e.line, e.column) for e in report.errors] == [(3, "kommunenummer")]
    assert "9999" in response.content.decode()
    assert not Organisation.objects.filter(orgnr=A).exists()


def test_upload_page_saves_a_valid_file(importer):
    client = client_for(importer)
    upload = SimpleUploadedFile("registry.csv", csv(f"{A},OK legesenter,fastlegekontor,4601,,"))
    response = client.post(reverse("actors:organisation_import"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert Organisation.objects.filter(orgnr=A, name="OK legesenter").exists()
