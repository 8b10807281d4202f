import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from actors import scoping
from actors.choices import Role, Source
from actors.imports import ImportFileError, import_organisations
from actors.models import HealthTrust, Organisation, OrganisationChange, OrganisationType
from rollout.imports import import_statuses
from tests.conftest import client_for
from tests.factories import OrganisationFactory, UserFactory, valid_orgnr

pytestmark = pytest.mark.django_db

HEADER = "organisasjonsnummer,navn,type,kommunenummer,her_id,helseforetak\n"
HEADER_4 = "organisasjonsnummer,navn,type,kommunenummer\n"  # as in the issue
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
        "Ukjent helseforetak",
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
        f"{A};Tromsø legesenter;Fastlegekontor;5501\r\n"
        f"{B};Ålesund sykehjem;sykehjem;1508\r\n"
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
    # 301 lost its leading zero: refused with a hint to write 0301 (actors/numbers.py).
    assert [(e.line, e.column) for e in report.errors] == [(2, "kommunenummer")]
    assert "0301" in report.errors[0].message
    assert report.encoding == "utf-8-sig"
    assert report.delimiter == "\t"


def test_missing_required_column_is_a_file_error(importer):
    with pytest.raises(ImportFileError, match="kommunenummer"):
        import_organisations(raw=b"organisasjonsnummer,navn,type\n1,2,3\n", user=importer)


def test_area_coordinator_cannot_import_outside_their_area(make_user):
    coordinator = make_user("coord_area")  # Helse Bergen
    raw = csv(
        f"{A},Bergen legesenter,fastlegekontor,4601,,", f"{B},Tromsø lege,fastlegekontor,5501,,"
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


# --- the one rule, the history and the dry-run diff -------------------------------------------


@pytest.fixture
def vest_coordinator():
    """A coordinator for the Helse Vest areas (Bergen, Stavanger, Fonna, Førde)."""
    return UserFactory(
        username="vest",
        role=Role.COORDINATOR,
        health_trusts=["helse-bergen", "helse-stavanger", "helse-fonna", "helse-forde"],
    )


@pytest.fixture
def oslo_nursing_home():
    return OrganisationFactory(
        name="Grünerløkka sykehjem",
        type=OrganisationType.objects.get(code="sykehjem"),
        municipality__number="0301",
        health_trust=HealthTrust.objects.get(code="oslo-universitetssykehus"),
        is_synthetic=True,
    )


@pytest.mark.parametrize("dry_run", [True, False])
def test_with_an_error_nothing_is_saved_but_the_other_rows_diffs_are_listed(
    vest_coordinator, oslo_nursing_home, dry_run
):
    mine = OrganisationFactory(
        name="Gammelt navn",
        type=OrganisationType.objects.get(code="sykehjem"),
        municipality__number="4601",
    )
    raw = csv(
        f"{mine.orgnr},Nytt navn,sykehjem,4601",
        f"{oslo_nursing_home.orgnr},Overtatt,sykehjem,4601",
        header=HEADER_4,
    )
    report = import_organisations(raw=raw, user=vest_coordinator, dry_run=dry_run)
    assert [e.line for e in report.errors] == [3] and not report.written
    assert [(c.line, c.orgnr) for c in report.changes] == [(2, mine.orgnr)]
    diff = {c.field: (c.old_value, c.new_value) for c in report.changes[0].changes}
    assert diff["name"] == ("Gammelt navn", "Nytt navn")
    mine.refresh_from_db()
    assert mine.name == "Gammelt navn"
    assert not OrganisationChange.objects.filter(organisation=mine).exclude(kind="create").exists()


@pytest.mark.parametrize("dry_run", [True, False])
def test_takeover_through_the_import_is_refused_like_an_unknown_number(
    vest_coordinator, oslo_nursing_home, dry_run
):
    number = oslo_nursing_home.orgnr
    raw = csv(f"{number},Overtatt,sykehjem,4601", header=HEADER_4)
    report = import_organisations(raw=raw, user=vest_coordinator, dry_run=dry_run)
    assert not report.written and not report.changes
    assert [(e.line, e.column, e.message) for e in report.errors] == [
        (2, "organisasjonsnummer", scoping.not_in_reach_message(number))
    ]
    # Word for word what a number that does not exist answers where one must exist.
    statuses = import_statuses(
        raw=f"organisasjonsnummer,losning,status\n{C},pll,planlegging\n".encode(),
        user=vest_coordinator,
        dry_run=True,
    )
    assert statuses.errors[0].message == scoping.not_in_reach_message(C)
    oslo_nursing_home.refresh_from_db()
    assert (oslo_nursing_home.name, oslo_nursing_home.municipality.number) == (
        "Grünerløkka sykehjem",
        "0301",
    )
    assert oslo_nursing_home.is_synthetic and oslo_nursing_home.version == 1
    assert not OrganisationChange.objects.exists()


def test_out_of_reach_row_reveals_nothing_else_about_the_organisation(
    vest_coordinator, oslo_nursing_home
):
    # Oslo has two areas: a new Oslo row without helseforetak is asked for one; an
    # existing one keeps its area. An out-of-reach number must not show the difference.
    raw = csv(f"{oslo_nursing_home.orgnr},Overtatt,sykehjem,0301", header=HEADER_4)
    report = import_organisations(raw=raw, user=vest_coordinator, dry_run=True)
    assert [(e.column, e.message) for e in report.errors] == [
        ("organisasjonsnummer", scoping.not_in_reach_message(oslo_nursing_home.orgnr))
    ]


def test_an_unknown_number_in_reach_is_still_created(vest_coordinator):
    report = import_organisations(
        raw=csv(f"{A},Ny i Bergen,sykehjem,4601", header=HEADER_4), user=vest_coordinator
    )
    assert report.written and report.created == 1
    change = OrganisationChange.objects.get(organisation__orgnr=A)
    assert (change.kind, change.source, change.changed_by) == (
        OrganisationChange.Kind.CREATE,
        Source.IMPORT,
        vest_coordinator,
    )


def test_synthetic_flag_is_kept_without_its_column_and_set_with_it(importer):
    synthetic = OrganisationFactory(orgnr=A, name="Demo", municipality__number="4601")
    Organisation.objects.filter(pk=synthetic.pk).update(is_synthetic=True)
    report = import_organisations(raw=csv(f"{A},Demo omdøpt,fastlegekontor,4601,,"), user=importer)
    assert report.written
    synthetic.refresh_from_db()
    assert synthetic.is_synthetic and synthetic.name == "Demo omdøpt"
    header = "organisasjonsnummer,navn,type,kommunenummer,syntetisk\n"
    report = import_organisations(
        raw=csv(f"{A},Demo omdøpt,fastlegekontor,4601,", header=header), user=importer
    )
    assert report.unchanged == 1  # an empty cell keeps the flag
    report = import_organisations(
        raw=csv(
            f"{A},Demo omdøpt,fastlegekontor,4601,nei",
            f"{B},Ny,fastlegekontor,4601,ja",
            header=header,
        ),
        user=importer,
    )
    assert report.written, report.errors
    synthetic.refresh_from_db()
    assert not synthetic.is_synthetic
    assert Organisation.objects.get(orgnr=B).is_synthetic
    flag = OrganisationChange.objects.get(field="is_synthetic")
    assert (flag.old_value, flag.new_value) == ("true", "false")
    report = import_organisations(
        raw=csv(f"{A},Demo,fastlegekontor,4601,kanskje", header=header), user=importer
    )
    assert [e.column for e in report.errors] == ["syntetisk"]


def test_moves_in_the_import(vest_coordinator, make_user):
    organisation = OrganisationFactory(orgnr=A, name="Kontor", municipality__number="4601")
    row = csv(f"{A},Kontor,fastlegekontor,5501", header=HEADER_4)
    # Bergen → Tromsø: the Helse Vest coordinator covers only the old side.
    report = import_organisations(raw=row, user=vest_coordinator)
    assert [(e.line, e.column) for e in report.errors] == [(2, "kommunenummer")]
    organisation.refresh_from_db()
    assert organisation.municipality.number == "4601"
    # Bergen → Stavanger: both sides are theirs.
    report = import_organisations(
        raw=csv(f"{A},Kontor,fastlegekontor,1103", header=HEADER_4), user=vest_coordinator
    )
    assert report.written and report.moved == 1
    organisation.refresh_from_db()
    assert organisation.health_trust.code == "helse-stavanger"
    moves = OrganisationChange.objects.filter(kind=OrganisationChange.Kind.MOVE)
    assert {m.field for m in moves} == {"municipality", "health_trust"}
    assert {m.source for m in moves} == {Source.IMPORT}
    # A national coordinator moves anywhere.
    assert import_organisations(raw=row, user=make_user("coord_nat")).written


def test_dry_run_lists_each_field_that_would_change_and_flags_moves(importer, tmp_path, capsys):
    OrganisationFactory(orgnr=A, name="Gammelt navn", municipality__number="4601", her_id=11)
    OrganisationFactory(orgnr=B, name="Uendret", municipality__number="4601")
    raw = csv(f"{A},Nytt navn,fastlegekontor,1103,12,", f"{B},Uendret,fastlegekontor,4601,,")
    report = import_organisations(raw=raw, user=importer, dry_run=True)
    assert report.ok and not report.written
    assert [(c.line, c.orgnr, c.moved) for c in report.changes] == [(2, A, True)]
    diff = {c.field: (c.old_value, c.new_value, c.kind) for c in report.changes[0].changes}
    assert diff == {
        "name": ("Gammelt navn", "Nytt navn", "change"),
        "her_id": ("11", "12", "change"),
        "municipality": ("4601 Bergen", "1103 Stavanger", "move"),
        "health_trust": ("Helse Bergen HF", "Helse Stavanger HF", "move"),
    }
    assert report.as_dict()["changes"][0]["moved"] is True
    assert not OrganisationChange.objects.exists()
    assert Organisation.objects.get(orgnr=A).name == "Gammelt navn"

    path = tmp_path / "registry.csv"
    path.write_bytes(raw)
    call_command("import_organisations", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert f"line 2, {A} Nytt navn (MOVE):" in out
    assert "name: 'Gammelt navn' -> 'Nytt navn'" in out
    assert "municipality: '4601 Bergen' -> '1103 Stavanger'" in out
    assert "1 updated (1 moved)" in out

    page = client_for(importer).post(
        reverse("actors:organisation_import"),
        {"file": SimpleUploadedFile("registry.csv", raw), "dry_run": "on"},
    )
    table = page.content.decode().split('class="list import-changes"')[1].split("</table>")[0]
    for text in (
        "Gammelt navn",
        "Nytt navn",
        "4601 Bergen",
        "1103 Stavanger",
        "Helse Stavanger HF",
    ):
        assert text in table
    assert 'class="move"' in table


def test_import_writes_history_in_bulk(importer, django_assert_max_num_queries):
    for n in range(30):
        OrganisationFactory(orgnr=valid_orgnr(9100 + n), name=f"Gammel {n}")
    rows = [f"{valid_orgnr(9100 + n)},Ny {n},fastlegekontor,4601,," for n in range(30)]
    rows += [f"{valid_orgnr(9200 + n)},Helt ny {n},fastlegekontor,4601,," for n in range(30)]
    with django_assert_max_num_queries(30):
        report = import_organisations(raw=csv(*rows), user=importer)
    assert (report.created, report.updated) == (30, 30)
    assert OrganisationChange.objects.filter(kind="create", source="import").count() == 30
    assert OrganisationChange.objects.filter(kind="change", field="name").count() == 30
