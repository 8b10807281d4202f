"""Realised benefits are combined as their unit allows (benefits.selectors.benefit_summary)
and shown alike on the benefit's page, in the status report's XLSX, CSV and PDF and in the
API: a share is never summed (mean and median of each reporter's change, in percentage
points), an amount is summed and averaged per reporter; the reporters are organisations
and municipalities reporting as a whole, each counted (issue 13 item 6, issue 18 item 5)."""

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pypdf
import pytest
from django.urls import reverse
from django.utils.translation import gettext

from actors.models import Municipality
from actors.scoping import SYSTEM_USER
from benefits import report_files, reports, selectors
from benefits.choices import Direction, MeasurementKind, ReportStatus
from benefits.models import Benefit, BenefitGoal, BenefitReport
from benefits.templatetags.report_tags import cell
from rollout import services as rollout_services
from rollout.choices import Status
from rollout.models import Solution
from tests.conftest import api_client_for, client_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
D = datetime.date
SHARE, MINUTES = "Andel som opplever oppdatert informasjon", "Tid per endring i multidose"

# Per benefit: (reporter, baseline, follow-up); a reporter is a municipality number (the
# municipality reporting as a whole) or the name of an organisation below.
REPORTS = {
    SHARE: [("4601", "50", "60"), ("5501", "40", "44"), ("Bergen sykehjem", "30", "31")],
    MINUTES: [
        ("Bergen legesenter", "30", "20"),
        ("Tromsø legesenter", "25", "22.5"),
        ("1103", "12", "11.25"),
    ],
}
# Worked out by hand. The share (higher is better): changes +10, +4, +1 percentage points
# → mean 5, median 4, never a sum. Minutes (lower is better): improvements 10, 2.5, 0.75
# → sum 13.25, mean 4.4166… → 4.42, median 2.5.
# Expected: the share's solution is in use at Bergen sykehjem, and municipalities report
# on it, so Bergen's municipality is expected too, and Tromsø because it reported: 1 + 2.
# Multidose is in use at three GP offices (one has not reported) in Bergen and Tromsø;
# Stavanger reported as a municipality: 3 organisations + 3 municipalities.
EXPECTED = {
    SHARE: {
        "kind": selectors.PERCENT,
        "mean": Decimal("5.00"),
        "median": Decimal("4.00"),
        "sum": None,
        "reported": 3,
        "municipalities": 2,
        "expected": 3,
    },
    MINUTES: {
        "kind": selectors.AMOUNT,
        "mean": Decimal("4.42"),
        "median": Decimal("2.50"),
        "sum": Decimal("13.25"),
        "reported": 3,
        "municipalities": 1,
        "expected": 6,
    },
}


def in_use(organisation, code):
    rollout_services.status_change(
        user=SYSTEM_USER,
        organisation=organisation,
        solution=Solution.objects.get(code=code),
        to_status=Status.IN_USE,
        effective_date=D(2025, 1, 1),
    )


def approved(benefit, reporter, kind, value, period_end):
    """An approved report, written straight to the table (the review is tested elsewhere)."""
    if isinstance(reporter, Municipality):
        municipality, organisation = reporter, None
    else:
        municipality, organisation = reporter.municipality, reporter
    BenefitReport.objects.create(
        benefit=benefit,
        municipality=municipality,
        organisation=organisation,
        kind=kind,
        period_start=period_end - datetime.timedelta(days=27),
        period_end=period_end,
        value=Decimal(value),
        method="Måling",
        status=ReportStatus.APPROVED,
    )


@pytest.fixture
def benefits(db):
    goal = BenefitGoal.objects.get(code="frigjort-tid")
    share = Benefit.objects.create(
        goal=goal, name=SHARE, indicator="Andel «i stor grad»", unit="prosent",
        direction=Direction.HIGHER, owner="Kommunene", target_value=Decimal("70"),
    )  # fmt: skip
    share.solutions.set(Solution.objects.filter(code="kjernejournal"))
    minutes = Benefit.objects.create(
        goal=goal, name=MINUTES, indicator="Minutter per endring", unit="minutter",
        direction=Direction.LOWER, owner="Legekontorene", target_value=Decimal("6"),
    )  # fmt: skip
    minutes.solutions.set(Solution.objects.filter(code="e-multidose"))
    organisations = {
        name: OrganisationFactory(municipality__number=number, name=name)
        for name, number in [
            ("Bergen sykehjem", "4601"),
            ("Bergen legesenter", "4601"),
            ("Tromsø legesenter", "5501"),
            ("Bergen legesenter 2", "4601"),  # multidose in use, not reported
        ]
    }
    in_use(organisations["Bergen sykehjem"], "kjernejournal")
    for name in ("Bergen legesenter", "Tromsø legesenter", "Bergen legesenter 2"):
        in_use(organisations[name], "e-multidose")
    for benefit in (share, minutes):
        for reporter, baseline, latest in REPORTS[benefit.name]:
            who = organisations.get(reporter) or Municipality.objects.get(number=reporter)
            approved(benefit, who, MeasurementKind.BASELINE, baseline, D(2024, 11, 30))
            approved(benefit, who, MeasurementKind.FOLLOW_UP, "99", D(2025, 5, 31))
            approved(benefit, who, MeasurementKind.FOLLOW_UP, latest, D(2025, 11, 30))
    return {SHARE: share, MINUTES: minutes}


def expected_row(name) -> list:
    e = EXPECTED[name]
    unit = gettext("percentage points") if e["kind"] == selectors.PERCENT else "minutter"
    return [
        name,
        unit,
        None,  # the label of the rule, checked on its own
        e["mean"],
        e["median"],
        e["sum"],
        e["reported"],
        e["municipalities"],
        e["expected"],
        e["reported"] / e["expected"],
    ]


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_each_unit_is_combined_as_it_allows(benefits, directorate):
    for name, benefit in benefits.items():
        s = selectors.benefit_summary(benefit, directorate)
        e = EXPECTED[name]
        assert s.kind == e["kind"]
        assert (s.mean_improvement, s.median_improvement, s.total_improvement) == (
            e["mean"], e["median"], e["sum"]
        )  # fmt: skip
        assert (s.reported, s.reported_municipalities, s.expected) == (
            e["reported"], e["municipalities"], e["expected"]
        )  # fmt: skip
    share = selectors.benefit_summary(benefits[SHARE], directorate)
    assert share.total_improvement is None and share.change_unit == gettext("percentage points")
    # Per area: Bergen's municipality and its nursing home; Tromsø's municipality.
    areas = {r["area"]: r for r in share.by_area}
    assert (areas["Helse Bergen HF"]["reported"], areas["Helse Bergen HF"]["expected"]) == (2, 2)
    assert areas["Universitetssykehuset Nord-Norge HF"]["reported"] == 1


def test_units_decide_the_arithmetic():
    kinds = {
        unit: selectors.unit_kind(unit)
        for unit in ["prosent", "%", "andel", "avvik per 1000 overføringer", "minutter",
                     "kroner", "forsendelser per måned", "antall"]
    }  # fmt: skip
    assert kinds == {
        "prosent": "percent", "%": "percent", "andel": "percent",
        "avvik per 1000 overføringer": "rate", "minutter": "amount", "kroner": "amount",
        "forsendelser per måned": "amount", "antall": "amount",
    }  # fmt: skip


def test_nobody_reported_gives_no_figure(directorate):
    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.get(code="frigjort-tid"), name="Tom", indicator="x",
        unit="prosent", direction=Direction.HIGHER, owner="x",
    )  # fmt: skip
    s = selectors.benefit_summary(benefit, directorate)
    assert s.mean_improvement is s.median_improvement is s.total_improvement is None
    row = reports.benefit_row(s)
    assert row[3:6] == [None, None, None] and row[6] == 0


def test_page_xlsx_csv_pdf_and_api_show_the_same_figures(benefits, directorate):
    place = reports.report_place(directorate, reports.NATIONAL, None)
    report = reports.build(directorate, reports.NATIONAL, place, D(2025, 1, 1))
    table = report.table("gevinster")
    labels = [c.label for c in table.columns]
    kinds = [c.kind for c in table.columns]
    rows = {row[0]: row for row in table.rows}
    for name in benefits:
        want = expected_row(name)
        got = rows[name]
        assert got[:2] + got[3:9] == want[:2] + want[3:9]
        assert got[9] == pytest.approx(want[9])

    # The page: the same labels with the same formatted figures.
    client = client_for(directorate)
    for name, benefit in benefits.items():
        html = squeeze(client.get(reverse("benefits:benefit_detail", args=[benefit.pk])).text)
        for label, value, kind in list(zip(labels, rows[name], kinds, strict=True))[1:]:
            if value == "":  # no note: no line
                continue
            dd = '<ddclass="num">' if kind != "text" else "<dd>"
            assert squeeze(f"<dt>{label}</dt>{dd}{cell(value, kind)}</dd>") in html, label
    register = squeeze(client.get(reverse("benefits:benefit_register")).text)
    assert squeeze(cell(Decimal("4.42"), "number")) in register  # "4,42"

    # XLSX: real numbers under the same labels.
    book = openpyxl.load_workbook(io.BytesIO(report_files.render(report, "xlsx")))
    sheet = next(book[n] for n in book.sheetnames if book[n]["A1"].value == table.title)
    assert [c.value for c in sheet[3]] == labels
    cells = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    for name in benefits:
        want = expected_row(name)
        numbers = [None if v is None else float(v) for v in want[3:6]]
        assert list(cells[name][3:6]) == numbers
        assert list(cells[name][6:9]) == want[6:9]
        assert cells[name][9] == pytest.approx(want[9])
    assert sheet["D4"].number_format == "0.00"

    # CSV: decimal comma, an empty field where there is no sum.
    with zipfile.ZipFile(io.BytesIO(report_files.render(report, "csv"))) as archive:
        body = next(archive.read(n) for n in archive.namelist() if n.endswith("-gevinster.csv"))
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == labels
    csv_rows = {r[0]: r for r in lines[1:]}
    assert csv_rows[SHARE][3:9] == ["5,00", "4,00", "", "3", "2", "3"]
    assert csv_rows[MINUTES][3:9] == ["4,42", "2,50", "13,25", "3", "1", "6"]

    # PDF: the row as the page formats it.
    pdf = pypdf.PdfReader(io.BytesIO(report_files.render(report, "pdf")))
    text = squeeze("\n".join(page.extract_text() for page in pdf.pages))
    for name in benefits:
        figures = "".join(cell(v, k) for v, k in zip(rows[name][3:], kinds[3:], strict=True))
        assert squeeze(figures) in text, name
    assert squeeze(cell(Decimal("13.25"), "number")) in text

    # The API: the same numbers.
    api = api_client_for(directorate)
    for name, benefit in benefits.items():
        data = api.get(reverse("benefit-summary", args=[benefit.pk])).json()
        e = EXPECTED[name]
        assert Decimal(data["mean_improvement"]) == e["mean"]
        assert data["total_improvement"] == (None if e["sum"] is None else str(e["sum"]))
        assert (data["reported"], data["reported_municipalities"], data["expected"]) == (
            e["reported"], e["municipalities"], e["expected"]
        )  # fmt: skip


def test_a_benefit_municipalities_report_on_expects_municipalities(directorate):
    """Reported only by municipalities as a whole: the organisations using the solution
    are not expected to report (the register said "0 of 5 713" where 14 had reported)."""
    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.get(code="frigjort-tid"), name="Innbyggere", indicator="x",
        unit="prosent", direction=Direction.HIGHER, owner="Kommunene",
    )  # fmt: skip
    benefit.solutions.set(Solution.objects.filter(code="kjernejournal"))
    for number in ("4601", "5501"):
        for _i in range(3):
            in_use(OrganisationFactory(municipality__number=number), "kjernejournal")
    bergen = Municipality.objects.get(number="4601")
    approved(benefit, bergen, MeasurementKind.BASELINE, "50", D(2024, 11, 30))
    approved(benefit, bergen, MeasurementKind.FOLLOW_UP, "55.5", D(2025, 11, 30))
    s = selectors.benefit_summary(benefit, directorate)
    assert (s.reported, s.reported_municipalities, s.expected) == (1, 1, 2)
    assert s.expected_organisations == 0 and s.mean_improvement == Decimal("5.50")
