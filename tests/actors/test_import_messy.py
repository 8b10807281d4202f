"""Files as people really have them (issue 16): stray quotes, rows of the wrong width,
UTF-16 from Excel, identifiers as registries and spreadsheets write them, trusts by name.
Each bad case is refused with the line and what to fix, and nothing is written."""

import pytest

from actors.imports import ImportFileError, import_organisations
from actors.models import Organisation
from rollout.imports import import_statuses
from rollout.models import StatusChange
from tests.factories import valid_orgnr

pytestmark = pytest.mark.django_db

HEADER = "organisasjonsnummer,navn,type,kommunenummer,helseforetak\n"
A, B, C, D = (valid_orgnr(9101 + i) for i in range(4))


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode("utf-8")


@pytest.fixture
def importer(make_user):
    return make_user("coord_nat")


def refused(raw: bytes, user, importer=import_organisations) -> str:
    before = Organisation.objects.count(), StatusChange.objects.count()
    with pytest.raises(ImportFileError) as exc:
        importer(raw=raw, user=user)
    assert (Organisation.objects.count(), StatusChange.objects.count()) == before
    return str(exc.value)


# --- 1. a CSV reader that never guesses silently ----------------------------------------


def test_a_stray_quote_is_refused_at_the_line_it_starts_on(importer):
    """The issue's case: row 3 used to be swallowed into row 2's name, and the report said
    "2 created"."""
    raw = csv(
        f"{A},Fjellsiden legesenter,fastlegekontor,4601,",
        f'{B},"Byhaven sykehjem,sykehjem,4601,',
        f"{C},Nordnes apotek,apotek,4601,",
    )
    message = refused(raw, importer)
    assert "3" in message and '"' in message


def test_a_stray_quote_that_is_closed_much_later_is_refused_too(importer):
    raw = csv(
        f"{A},Fjellsiden legesenter,fastlegekontor,4601,",
        f'{B},"Byhaven sykehjem,sykehjem,4601,',
        f"{C},Nordnes apotek,apotek,4601,",
        f'{D},Sentrum apotek" AS,apotek,4601,',
    )
    message = refused(raw, importer)
    assert "3" in message and "5" in message  # where it starts, where the reader stopped


def test_a_huge_unclosed_field_is_refused_not_a_server_error(importer, coordinator):
    rows = [f"{valid_orgnr(20000 + i)},Legekontor {i},fastlegekontor,4601," for i in range(4000)]
    rows.insert(1, f'{A},"Uavsluttet,fastlegekontor,4601,')
    raw = csv(*rows)
    assert len(raw) > 131072  # the csv module's own field limit, which used to crash
    assert "3" in refused(raw, importer)
    status_rows = "".join(f"{valid_orgnr(20000 + i)},pll,planlegging\n" for i in range(6000))
    status_raw = f'organisasjonsnummer,losning,status\n"{A},pll,planlegging\n{status_rows}'
    assert "2" in refused(status_raw.encode(), coordinator, import_statuses)


def test_a_row_of_the_wrong_width_is_refused_with_its_line(importer):
    raw = csv(
        f"{A},Fjellsiden legesenter,fastlegekontor,4601,",
        f"{B},Byhaven sykehjem,sykehjem",
        f"{C},Nordnes apotek,apotek,4601,,ekstra",
    )
    message = refused(raw, importer)
    assert "3" in message and "4" in message and "5" in message and "6" in message
    # Excel's empty trailing cells are not a problem.
    report = import_organisations(
        raw=csv(f"{A},Fjellsiden legesenter,fastlegekontor,4601,,,"), user=importer
    )
    assert report.written and report.created == 1


def test_a_name_over_two_lines_is_normalised_and_said(importer):
    raw = csv(
        f'{A},"Fjellsiden\nlegesenter  AS",fastlegekontor,4601,',
        "",
        f"{B},Byhaven sykehjem,sykehjem,4601,",
    )
    report = import_organisations(raw=raw, user=importer)
    assert report.written
    assert Organisation.objects.get(orgnr=A).name == "Fjellsiden legesenter AS"
    assert [(n.line, n.column) for n in report.notices] == [(2, "navn")]
    # Every physical line accounted for: header, a row over two lines, a blank, a row.
    assert (report.lines, report.blank_lines, report.rows) == (5, 1, 2)


def test_an_error_in_a_row_over_several_lines_names_its_first_line(importer):
    raw = csv(
        f"{A},Fjellsiden legesenter,fastlegekontor,4601,",
        f'{B},"Byhaven\nsykehjem",sykehjem,9999,',
    )
    report = import_organisations(raw=raw, user=importer)
    assert [(e.line, e.column) for e in report.errors] == [(3, "kommunenummer")]
    assert not Organisation.objects.exists()


def test_utf16_from_excel_is_read_as_such(importer):
    text = (
        "organisasjonsnummer\tnavn\ttype\tkommunenummer\r\n"
        f"{A}\tTromsø legesenter\tfastlegekontor\t5501\r\n"
    )
    report = import_organisations(raw=text.encode("utf-16"), user=importer)
    assert report.written and report.encoding == "utf-16"
    assert Organisation.objects.get(orgnr=A).name == "Tromsø legesenter"
    # Without its byte order mark it is not guessed.
    assert "UTF-16" in refused(text.encode("utf-16-le"), importer)


def test_a_header_only_file_says_nothing_was_in_it(importer, coordinator):
    assert "header" in refused(csv(), importer) or "overskrift" in refused(csv(), importer)
    status_header = b"organisasjonsnummer,losning,status\n"
    message = refused(status_header, coordinator, import_statuses)
    assert message == refused(csv(), importer)


# --- 2. identifiers as people write them --------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "NO{n}MVA",
        "NO {s} MVA",
        "{d}",
        "'{n}",
        "{n}",
        "no {n} mva",
    ],
)
def test_organisation_numbers_as_registries_and_excel_write_them(importer, written):
    n = "988077917"
    value = written.format(n=n, s=f"{n[:3]} {n[3:6]} {n[6:]}", d=f"{n[:3]}-{n[3:6]}-{n[6:]}")
    report = import_organisations(
        raw=csv(f"{value},Bergen legesenter,fastlegekontor,4601,"), user=importer
    )
    assert report.written, report.errors
    assert Organisation.objects.get().orgnr == n
    said = [x for x in report.notices if x.column == "organisasjonsnummer"]
    assert bool(said) == (value != n)


@pytest.mark.parametrize("written", ["9.10000E+08", "9,1E+08", "988077917.0"])
def test_spreadsheet_numbers_get_the_hint_to_format_as_text(importer, written):
    report = import_organisations(
        raw=csv(f'"{written}",Bergen legesenter,fastlegekontor,4601,'), user=importer
    )
    (error,) = report.errors
    assert error.column == "organisasjonsnummer" and written in error.message
    assert "'" in error.message  # the apostrophe tip, in any language
    assert not Organisation.objects.exists()


@pytest.mark.parametrize(
    ("written", "mentions"), [("4601.0", "4601.0"), ("4,601E+03", "4,601E+03"), ("46", "Vestland")]
)
def test_municipality_numbers_a_spreadsheet_changed_get_a_hint(importer, written, mentions):
    report = import_organisations(
        raw=csv(f'{A},Bergen legesenter,fastlegekontor,"{written}",'), user=importer
    )
    (error,) = report.errors
    assert error.column == "kommunenummer" and mentions in error.message


def test_an_apostrophe_before_a_municipality_number_is_accepted(importer):
    report = import_organisations(
        raw=csv(f"{A},Grünerløkka legesenter,fastlegekontor,'0301,OUS"), user=importer
    )
    assert report.written, report.errors


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("OUS", "oslo-universitetssykehus"),
        ("ahus", "akershus-universitetssykehus"),
        ("Oslo universitetssykehus HF", "oslo-universitetssykehus"),
        ("AKERSHUS-UNIVERSITETSSYKEHUS", "akershus-universitetssykehus"),
    ],
)
def test_oslos_trust_by_code_short_name_or_name(importer, written, code):
    report = import_organisations(
        raw=csv(f"{A},Grünerløkka legesenter,fastlegekontor,0301,{written}"), user=importer
    )
    assert report.written, report.errors
    assert Organisation.objects.get().health_trust.code == code


def test_an_unknown_trust_lists_the_ones_valid_for_the_municipality(importer):
    report = import_organisations(
        raw=csv(f"{A},Grünerløkka legesenter,fastlegekontor,0301,Haukeland"), user=importer
    )
    (error,) = report.errors
    assert error.column == "helseforetak" and "Haukeland" in error.message
    assert "OUS" in error.message and "Ahus" in error.message
    assert "helse-bergen" not in error.message


# --- 6. the status import's override -------------------------------------------------------

STATUS_HEADER = "organisasjonsnummer,losning,status,begrunnelse,overstyring\n"


def test_a_coordinator_overrides_a_missing_prerequisite_in_the_file(coordinator, org_bergen):
    row = f"{org_bergen.orgnr},dokumentdeling,i_utproving,Pilot,"
    without = import_statuses(raw=(STATUS_HEADER + row + "\n").encode(), user=coordinator)
    assert {e.column for e in without.errors} == {"status"}
    assert not StatusChange.objects.exists()
    raw = (STATUS_HEADER + row + "Avtalt pilot med NHN\n").encode()
    report = import_statuses(raw=raw, user=coordinator)
    assert report.ok and report.updated == 1
    assert StatusChange.objects.get().prerequisite_override == "Avtalt pilot med NHN"


def test_another_role_cannot_override_in_the_file(contact, org_bergen):
    raw = (STATUS_HEADER + f"{org_bergen.orgnr},dokumentdeling,i_utproving,Pilot,Haster\n").encode()
    report = import_statuses(raw=raw, user=contact)
    assert [(e.line, e.column) for e in report.errors] == [(2, "overstyring")]
    assert not StatusChange.objects.exists()
