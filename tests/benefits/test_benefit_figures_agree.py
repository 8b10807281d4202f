"""The benefit figures agree everywhere (issue 18 item 5), on the synthetic demo: for every
benefit, the benefit's page, the benefit register and the API show what the national status
report's XLSX, CSV and PDF hold, all from one definition (benefits.reports.benefit_columns
and benefit_row of benefits.selectors.BenefitSummary). A benefit nobody has reported on
shows no realised figure and no percentage anywhere, but a note saying so. The report's
forecast column (item 4) is filled for every target with what the target's page shows: the
projected date, or why there is none."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pypdf
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext

from benefits import coverage, report_files, reports
from benefits.choices import Direction, Level, Verdict
from benefits.models import Benefit, BenefitGoal, CoverageSnapshot, CoverageTarget
from benefits.templatetags.report_tags import cell
from rollout.models import Solution
from tests.conftest import ROLE_USERS, api_client_for, client_for
from tests.factories import UserFactory

from .test_report_pdf_layout import outside, text_runs

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo-figures")]
D = datetime.date
# BenefitSummary.note's msgid (translated whole: a piece of it is no msgid of its own).
NOBODY = (
    "Nobody reported yet: a realised change needs an approved baseline and an "
    "approved follow-up from the same reporter."
)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The synthetic demo, seeded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        name = connection.settings_dict["NAME"]
        assert name.startswith("test_") or "memory" in name, f"not a test database: {name}"
        call_command("seed_demo", seed=1, no_coverage_history=True, verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def directorate(db, demo):
    return UserFactory(username="figures-directorate", **ROLE_USERS["directorate"])


@pytest.fixture
def unreported(db, demo) -> Benefit:
    """A benefit whose solution is in use nearly everywhere and that nobody reported on."""
    benefit = Benefit.objects.create(
        goal=BenefitGoal.objects.order_by("sort_order").first(), name="Ingen har rapportert",
        indicator="Andel", unit="prosent", direction=Direction.HIGHER, owner="Direktoratet",
        target_value=Decimal("80"),
    )  # fmt: skip
    benefit.solutions.set(Solution.objects.filter(code="kjernejournal"))
    return benefit


def squeeze(text: str) -> str:
    return "".join(text.split())


def national_report(user) -> reports.Report:
    place = reports.report_place(user, reports.NATIONAL, None)
    return reports.build(user, reports.NATIONAL, place, D(2025, 1, 1))


def xlsx_rows(report: reports.Report, table: reports.Table) -> tuple[list, dict]:
    """(header, {first cell: row}) of the table's sheet."""
    book = openpyxl.load_workbook(io.BytesIO(report_files.render(report, "xlsx")))
    sheet = next(book[n] for n in book.sheetnames if book[n]["A1"].value == table.title)
    header = [c.value for c in sheet[reports_header_row()]]
    rows = sheet.iter_rows(min_row=reports_header_row() + 1, values_only=True)
    return header, {r[0]: r for r in rows}


def reports_header_row() -> int:
    return report_files.HEADER_ROW + 1  # 1-based


def csv_rows(report: reports.Report, key: str) -> tuple[list, dict]:
    with zipfile.ZipFile(io.BytesIO(report_files.render(report, "csv"))) as archive:
        body = next(archive.read(n) for n in archive.namelist() if n.endswith(f"-{key}.csv"))
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    return lines[0], {r[0]: r for r in lines[1:]}


def in_xlsx(value, kind: str):
    """What the workbook's cell holds for a figure."""
    if value is None or value == "":
        return None
    if kind in ("number", "percent"):
        return pytest.approx(float(value))
    return value


def in_csv(value, kind: str) -> str:
    """What the CSV field holds for a figure (decimal comma, shares as fractions)."""
    if value is None:
        return ""
    if kind == "percent":
        return f"{round(value, report_files.SHARE_DECIMALS)}".replace(".", ",")
    if kind == "number":
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def register_row(html: str, benefit: Benefit) -> str:
    """The register's table row of the benefit (squeezed)."""
    link = squeeze(f'<a href="{benefit.get_absolute_url()}">{escape(benefit.name)}</a>')
    start = html.index(link)
    return html[start : html.index("</tr>", start)]


def test_page_register_xlsx_csv_pdf_and_api_agree_for_every_benefit(directorate, unreported):
    report = national_report(directorate)
    table = report.table("gevinster")
    labels = [c.label for c in table.columns]
    kinds = [c.kind for c in table.columns]
    rows = {row[0]: dict(zip(labels, row, strict=True)) for row in table.rows}
    benefits = list(Benefit.objects.order_by("pk"))
    assert set(rows) == {b.name for b in benefits}
    reported = gettext("Reported")
    assert rows[unreported.name][reported] == 0
    assert any(r[reported] for r in rows.values()), "the demo has reported benefits"

    # The rule, once: nobody reported gives no realised figure and no percentage, and a
    # note that says why; a reported benefit has its figures and no note.
    realised = [
        label for label, kind in zip(labels, kinds, strict=True) if kind in ("number", "percent")
    ]
    note = gettext("Note")
    for name, figures in rows.items():
        if figures[reported]:
            assert figures[note] == "", name
            assert figures[gettext("Mean improvement per reporter")] is not None, name
            assert 0 < figures[gettext("Reporting coverage")] <= 1, name
        else:
            assert [figures[label] for label in realised] == [None] * len(realised), name
            assert figures[note].startswith(gettext(NOBODY)), name
    assert rows[unreported.name][gettext("Expected")] > 0  # "0 of N", never "0 %"

    # The benefit's page: every figure under the same label, formatted as the PDF.
    client = client_for(directorate)
    for benefit in benefits:
        html = squeeze(client.get(reverse("benefits:benefit_detail", args=[benefit.pk])).text)
        for label, kind in list(zip(labels, kinds, strict=True))[1:]:
            if rows[benefit.name][label] == "":  # no note: no line
                assert squeeze(f"<dt>{escape(label)}</dt>") not in html
                continue
            value = cell(rows[benefit.name][label], kind)
            dd = '<ddclass="num">' if kind != "text" else "<dd>"
            assert squeeze(f"<dt>{escape(label)}</dt>{dd}{escape(value)}</dd>") in html, (
                benefit.name,
                label,
            )

    # The register: the same mean improvement, average now and coverage; nobody reported:
    # said in words, and no percentage in the row.
    register = squeeze(client.get(reverse("benefits:benefit_register")).text)
    for benefit in benefits:
        row, figures = register_row(register, benefit), rows[benefit.name]
        counts = gettext("reported %(r)s of %(e)s") % {
            "r": figures[reported],
            "e": cell(figures[gettext("Expected")], "int"),
        }
        if figures[reported]:
            for label in (gettext("Mean improvement per reporter"), gettext("Average now")):
                assert squeeze(cell(figures[label], "number")) in row, (benefit.name, label)
            share = cell(figures[gettext("Reporting coverage")], "percent")
            assert squeeze(f"{counts} ({share})") in row, benefit.name
        else:
            assert squeeze(gettext("nobody reported yet")) in row, benefit.name
            assert squeeze(counts) in row and "%" not in row, benefit.name

    # XLSX: real numbers (or an empty cell) under the same labels.
    header, sheet_rows = xlsx_rows(report, table)
    assert header == labels
    for name, figures in rows.items():
        got = dict(zip(labels, sheet_rows[name], strict=True))
        for label, kind in zip(labels, kinds, strict=True):
            assert got[label] == in_xlsx(figures[label], kind), (name, label)

    # CSV: decimal commas, an empty field where there is no figure.
    header, fields = csv_rows(report, "gevinster")
    assert header == labels
    for name, figures in rows.items():
        got = dict(zip(labels, fields[name], strict=True))
        for label, kind in zip(labels, kinds, strict=True):
            assert got[label] == in_csv(figures[label], kind), (name, label)

    # PDF: each benefit's row as the page formats its cells, in order.
    data = report_files.render(report, "pdf")
    assert not outside(text_runs(data)), "the wider table still fits its pages"
    pdf = pypdf.PdfReader(io.BytesIO(data))
    text = squeeze("\n".join(page.extract_text() for page in pdf.pages))
    for name, figures in rows.items():
        printed = "".join(
            cell(figures[label], kind) for label, kind in zip(labels, kinds, strict=True)
        )
        assert squeeze(printed) in text, name

    # The API: the same figures.
    api = api_client_for(directorate)
    for benefit in benefits:
        data = api.get(reverse("benefit-summary", args=[benefit.pk])).json()
        figures = rows[benefit.name]
        mean = figures[gettext("Mean improvement per reporter")]
        assert data["mean_improvement"] == (None if mean is None else f"{mean:.2f}")
        assert data["reported"] == figures[reported]
        assert data["expected"] == figures[gettext("Expected")]
        assert data["coverage"] == in_xlsx(figures[gettext("Reporting coverage")], "percent")
        assert data["note"] == figures[note]


def test_the_register_export_holds_the_same_figures(directorate, unreported):
    """The register's own file (API export) carries the same figures under the same labels
    (shares in per cent)."""
    table = national_report(directorate).table("gevinster")
    labels, kinds = [c.label for c in table.columns], [c.kind for c in table.columns]
    rows = {row[0]: row for row in table.rows}
    body = api_client_for(directorate).get(reverse("benefit-export"), {"format": "csv"}).content
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    header = lines[0]
    names = header.index(capfirst(str(Benefit._meta.get_field("name").verbose_name)))
    first = header.index(labels[1])
    for line in lines[1:]:
        row = rows[line[names]]
        for value, kind, got in zip(row[1:], kinds[1:], line[first:], strict=True):
            if kind == "percent" and value is not None:
                assert Decimal(got.replace(",", ".")) == Decimal(str(round(value * 100, 1)))
            else:
                assert got == in_csv(value, kind), (line[names], kind)


def test_the_report_forecast_column_is_filled_for_every_target(directorate):
    """Every active target has a forecast in the XLSX and the CSV: the date the target's
    page projects, or the page's reason why there is none (one snapshot: too little
    history); a target with a rising year of snapshots gets its projected date."""
    targets = list(CoverageTarget.objects.filter(is_active=True).order_by("pk"))
    assert len(targets) >= 2
    rising = targets[0]
    latest = CoverageSnapshot.objects.filter(target=rising, level=Level.NATION, scope_id=0).latest(
        "day"
    )
    step = max(1, latest.denominator // 50)  # two percentage points a month
    for months in range(1, 7):
        CoverageSnapshot.objects.create(
            target=rising, level=Level.NATION, scope_id=0,
            day=latest.day - datetime.timedelta(days=30 * months),
            numerator=max(0, latest.numerator - months * step),
            denominator=latest.denominator,
        )  # fmt: skip
    report = national_report(directorate)
    table = report.table("resultatmal")
    forecast = gettext("Forecast")
    column = [c.label for c in table.columns].index(forecast)
    place = reports.report_place(directorate, reports.NATIONAL, None)
    statuses = {s.target.name: s.forecast for s in coverage.target_statuses(targets, place)}
    header, sheet_rows = xlsx_rows(report, table)
    _header, fields = csv_rows(report, "resultatmal")
    client = client_for(directorate)
    for target in targets:
        f = statuses[target.name]
        want = f.projected or f.message
        assert want, target.name
        got = sheet_rows[target.name][column]
        if f.projected:
            assert got == datetime.datetime.combine(f.projected, datetime.time()), target.name
            assert fields[target.name][column] == f.projected.isoformat()
            shown = f.projected.strftime("%d.%m.%Y")
        else:
            assert got == f.message and fields[target.name][column] == f.message, target.name
            shown = f.message
        page = client.get(reverse("benefits:target_detail", args=[target.code])).text
        assert squeeze(escape(shown)) in squeeze(page), target.name
    assert statuses[rising.name].projected or statuses[rising.name].verdict == Verdict.REACHED
    assert not re.search(r"\bNone\b", str(fields))
