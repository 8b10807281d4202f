"""Status report files: the workbook, the zipped CSV files and the PDF hold the report's
sections with the figures the database holds, within the reach of the user they were
made for (the reports of Bergen and its area name nothing of Tromsø).

Each test builds its report once and checks all three files (a back-filled registry and
a PDF are the slow parts)."""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field

import openpyxl
import pypdf
import pytest
from django.utils.translation import gettext

from actors.models import Job, Organisation, OrganisationType
from actors.scoping import SYSTEM_USER
from benefits import report_files, report_pdf, reports, services
from benefits.models import CoverageSnapshot, CoverageTarget
from benefits.templatetags.report_tags import cell
from rollout.choices import ADOPTED_STATUSES
from rollout.models import RolloutStatus, Solution
from rollout.services import HistoryEntry, status_history_load
from tests.benefits.test_report_pdf_layout import outside, text_runs
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TARGET, SOLUTION = "e-multidose-legekontor", "e-multidose"
BERGEN_REASON, TROMSO_REASON = "Venter på ny EPJ-versjon", "Venter på EPJ-oppgradering i Tromsø"


@dataclass(frozen=True)
class Case:
    user: str
    kind: str
    key: str | None
    organisations: dict = field(default_factory=dict)  # the place's organisations
    multidose: tuple[int, int] = (0, 0)  # GP offices with e-multidose in use, of
    sees_tromso: bool = False


CASES = {
    "national": Case("directorate", reports.NATIONAL, None, {}, (3, 6), sees_tromso=True),
    "area": Case(
        "coord_area",
        reports.AREA,
        "area:helse-bergen",
        {"health_trust__code": "helse-bergen"},
        (2, 4),
    ),
    "municipality": Case(
        "contact",
        reports.MUNICIPALITY,
        "municipality:4601",
        {"municipality__number": "4601"},
        (2, 4),
    ),
}


def gp(number, name):
    return OrganisationFactory(
        municipality__number=number,
        name=name,
        type=OrganisationType.objects.get(code="fastlegekontor"),
    )


@pytest.fixture
def registry(db):
    """GP offices in Bergen and Tromsø with e-multidose in use, blocked or not started,
    and a monthly back-filled coverage history since 2024."""
    bergen = [gp("4601", f"Bergen lege {i}") for i in range(4)]
    tromso = [gp("5501", f"Tromsø lege {i}") for i in range(2)]
    multidose = Solution.objects.get(code=SOLUTION)
    status_history_load(
        user=SYSTEM_USER,
        changes=[
            HistoryEntry(bergen[0].pk, multidose.pk, "i_bruk", D(2024, 2, 1)),
            HistoryEntry(bergen[1].pk, multidose.pk, "i_bruk", D(2024, 9, 1)),
            HistoryEntry(bergen[2].pk, multidose.pk, "blokkert", D(2025, 1, 1), BERGEN_REASON),
            HistoryEntry(tromso[0].pk, multidose.pk, "i_bruk", D(2025, 3, 1)),
            HistoryEntry(tromso[1].pk, multidose.pk, "blokkert", D(2025, 4, 1), TROMSO_REASON),
        ],
    )
    job = services.coverage_job_request(
        user=SYSTEM_USER,
        kind=Job.Kind.COVERAGE_BACKFILL,
        params={"every": "month", "start": "2024-02-01"},  # the first day of history
    )
    services.coverage_job_run(job)
    return {"bergen": bergen, "tromso": tromso}


def report_for(make_user, case: Case) -> reports.Report:
    user = make_user(case.user)
    place = reports.report_place(user, case.kind, case.key)
    assert place is not None
    return reports.build(user, case.kind, place, D(2025, 1, 1))


def latest_snapshot(report) -> tuple[int, int]:
    snapshot = (
        CoverageSnapshot.objects.filter(
            target__code=TARGET, level=report.place.level, scope_id=report.place.scope_id
        )
        .order_by("-day")
        .first()
    )
    return snapshot.numerator, snapshot.denominator


def multidose_in_use(case: Case) -> tuple[int, int]:
    """Counted straight from the status rows, not through the report's queries."""
    organisations = Organisation.objects.filter(is_active=True, **case.organisations)
    solution = Solution.objects.get(code=SOLUTION)
    in_use = RolloutStatus.objects.filter(
        solution=solution, status__in=ADOPTED_STATUSES, organisation__in=organisations
    ).count()
    applicable = organisations.filter(type__in=solution.organisation_types.all()).count()
    return in_use, applicable


def row_of(rows, first_value):
    return next(row for row in rows if row[0] == first_value)


def target_name():
    return CoverageTarget.objects.get(code=TARGET).name


def solution_name():
    return Solution.objects.get(code=SOLUTION).name


def squeeze(text: str) -> str:
    """Text without whitespace: PDF cells wrap wherever the layout wants."""
    return "".join(text.split())


@pytest.mark.parametrize("name", CASES)
def test_report_files_hold_the_sections_with_the_database_figures(registry, make_user, name):
    case = CASES[name]
    report = report_for(make_user, case)
    assert latest_snapshot(report) == multidose_in_use(case) == case.multidose
    texts = {
        "xlsx": check_xlsx(report, case),
        "csv": check_csv(report, case),
        "pdf": check_pdf(report, case),
    }
    # Within reach only: Bergen's blocking reason everywhere, Tromsø's only nationally.
    for fmt, text in texts.items():
        assert squeeze(BERGEN_REASON) in squeeze(text), fmt
        assert (squeeze(TROMSO_REASON) in squeeze(text)) == case.sees_tromso, fmt
        assert ("Tromsø" in text) == case.sees_tromso, fmt


# --- XLSX -----------------------------------------------------------------------------


def check_xlsx(report, case: Case) -> str:
    """Checks the workbook; returns all its cell values as one text."""
    data = report_files.render(report, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))

    names = book.sheetnames
    assert len(names) == len(report.tables) + 2
    assert names[0] == gettext("About the report") and names[-1] == gettext("Trends")
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    about = book[names[0]]
    assert about["A1"].value == report.title and about["B3"].value == report.place.name
    assert about["B4"].value.date() == report.since

    sheets = dict(zip([t.key for t in report.tables], names[1:-1], strict=True))
    for table in report.tables:
        sheet = book[sheets[table.key]]
        assert sheet["A1"].value == table.title
        assert [c.value for c in sheet[3]] == [c.label for c in table.columns]
        assert sheet["A3"].font.b and sheet["A3"].fill.fgColor.rgb.endswith("D9D9D9")
        assert sheet.freeze_panes == "A4"
        assert sheet.auto_filter.ref.startswith("A3:")
        assert len(list(sheet.iter_rows(min_row=4))) == len(table.rows)

    expected = case.multidose
    targets = book[sheets["resultatmal"]]
    row = row_of(list(targets.iter_rows(min_row=4, values_only=True)), target_name())
    assert tuple(row[1:3]) == expected
    assert row[3] == pytest.approx(expected[0] / expected[1]) and row[4] == pytest.approx(0.8)
    assert row[5] == datetime.datetime(2024, 12, 31)  # the deadline, a real date
    assert targets["D4"].number_format == "0.0%" and targets["B4"].number_format == "#,##0"
    assert targets["F4"].number_format == "dd.mm.yyyy"

    solutions = book[sheets["losninger"]]
    row = row_of(list(solutions.iter_rows(min_row=4, values_only=True)), solution_name())
    assert tuple(row[2:4]) == expected
    assert solutions.column_dimensions["A"].width >= len(solution_name())

    trends = book[names[-1]]
    header = [c.value for c in trends[3]]
    assert header[0] == gettext("Month")
    assert header[1 : 1 + len(report.trends)] == [t.title for t in report.trends]
    col = header.index(target_name())
    rows = list(trends.iter_rows(min_row=4, values_only=True))
    assert rows[0][0] == datetime.datetime(2024, 2, 1) and trends["A4"].number_format == "mm.yyyy"
    assert rows[-1][col] == pytest.approx(expected[0] / expected[1])
    assert trends.cell(row=4, column=col + 1).number_format == "0.0%"

    # openpyxl drops charts on loading: look for them in the package itself.
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
        assert "xl/charts/chart1.xml" in charts and len(charts) == len(report.trends)
        chart = package.read("xl/charts/chart1.xml").decode()
    assert chart.count("<c:ser>") == 2 and '<a:prstDash val="dash"/>' in chart
    assert '<c:max val="1"/>' in chart and '<c:min val="0"/>' in chart

    return " ".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
    )


# --- CSV ------------------------------------------------------------------------------


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def check_csv(report, case: Case) -> str:
    """Checks the zipped CSV files; returns their contents as one text."""
    with zipfile.ZipFile(io.BytesIO(report_files.render(report, "csv"))) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    names = [f"{n:02d}-{t.key}.csv" for n, t in enumerate(report.tables, start=1)]
    assert list(files) == [*names, "trender.csv"]

    for name, table in zip(names, report.tables, strict=True):
        rows = csv_rows(files[name])
        assert rows[0] == [c.label for c in table.columns]
        assert len(rows) == 1 + len(table.rows)

    expected = case.multidose
    targets = csv_rows(files[names[[t.key for t in report.tables].index("resultatmal")]])
    row = row_of(targets[1:], target_name())
    share = str(round(expected[0] / expected[1], 4)).replace(".", ",")  # decimal comma
    assert row[1:6] == [str(expected[0]), str(expected[1]), share, "0,8", "2024-12-31"]

    solutions = csv_rows(files["01-losninger.csv"])
    row = row_of(solutions[1:], solution_name())
    assert row[2:4] == [str(n) for n in expected]

    trends = csv_rows(files["trender.csv"])
    titles = [t.title for t in report.trends]
    assert trends[0][: 1 + len(titles)] == [gettext("Month"), *titles]
    assert trends[1][0] == "2024-02"
    col = trends[0].index(target_name())
    share = float(trends[-1][col].replace(",", "."))
    assert share == pytest.approx(expected[0] / expected[1], abs=1e-4)
    assert trends[-1][col + len(titles)] == "0,8"  # its threshold

    return " ".join(body.decode("utf-8-sig") for body in files.values())


# --- PDF ------------------------------------------------------------------------------


def check_pdf(report, case: Case) -> str:
    """Checks the PDF; returns its text."""
    data = report_files.render(report, "pdf")
    assert data.startswith(b"%PDF-")
    pdf = pypdf.PdfReader(io.BytesIO(data))
    sizes = [sorted((float(p.mediabox.width), float(p.mediabox.height))) for p in pdf.pages]
    for size in sizes:  # A4: 210 × 297 mm, upright or (the wide area table) turned
        assert size == [pytest.approx(595.28, abs=1), pytest.approx(841.89, abs=1)]
    first = pdf.pages[0].mediabox
    assert float(first.width) < float(first.height)  # the report starts upright
    raw = "\n".join(page.extract_text() for page in pdf.pages)
    text = squeeze(raw)
    assert not outside(text_runs(data))  # every text within its page (issue 18)

    assert squeeze(report.title) in text and squeeze(report.place.name) in text
    for table in report.tables:
        assert squeeze(table.title) in text and squeeze(table.note) in text
        for column in table.columns if table.rows else []:  # every column's heading
            assert squeeze(column.label) in text, column.label
        for row in report_pdf.PrintedTable.of(table).rows:  # and every cell
            assert all(squeeze(value) in text for value in row), row
    if report.trends:
        assert squeeze(gettext("Result targets over time")) in text
    for trend in report.trends:
        assert squeeze(trend.title) in text
    # The result target's row as the preview formats it, cell by cell:
    # "e-Multidose ved legekontor 3 6 50,0 % 80,0 % 31.12.2024".
    achieved, of = case.multidose
    row = [target_name(), cell(achieved, "int"), cell(of, "int"), cell(achieved / of, "percent")]
    row += [cell(0.8, "percent"), cell(D(2024, 12, 31), "date")]
    assert squeeze("".join(row)) in text
    return raw


# --- reach ----------------------------------------------------------------------------


def test_reports_out_of_reach_are_refused(make_user):
    contact, coordinator = make_user("contact"), make_user("coord_area")
    assert reports.report_place(contact, reports.NATIONAL, None) is None
    assert reports.report_place(contact, reports.AREA, "area:helse-bergen") is None
    assert reports.report_place(contact, reports.MUNICIPALITY, "municipality:5501") is None
    assert reports.report_place(contact, reports.MUNICIPALITY, "municipality:4601") is not None
    assert reports.report_place(coordinator, reports.NATIONAL, None) is None
    assert reports.report_place(coordinator, reports.AREA, "area:unn") is None
    assert reports.report_place(coordinator, reports.AREA, "area:helse-bergen") is not None
    norole = make_user("norole")
    assert reports.report_place(norole, reports.MUNICIPALITY, "municipality:4601") is None


# --- details --------------------------------------------------------------------------


def test_sheet_names_are_valid_and_unique():
    taken = set()
    names = [
        report_files._sheet_name(title, taken, "x")
        for title in [
            "Status changes since 01.07.2026",
            "Intention agreements signed since 01.07.2026",
            "Intention agreements signed since 01.07.2026",
            "A/B: [what]? *all* \\ of it",
            "'quoted'",
            "History",
            "",
        ]
    ]
    assert names[:2] == ["Status changes since 01.07.2026", "Intention agreements signed…"]
    assert names[2] == "Intention agreements… (2)"
    assert names[3:] == ["AB what all of it", "quoted", "History (2)", "x"]
    assert all(len(n) <= 31 for n in names)


def test_unknown_formats_are_refused():
    with pytest.raises(ValueError):
        report_files.render(None, "docx")
    assert set(report_files.FORMATS) == set(report_files.CONTENT_TYPES)
    assert report_files.EXTENSIONS["csv"] == "zip"
    assert report_files.CONTENT_TYPES["csv"] == "application/zip"
