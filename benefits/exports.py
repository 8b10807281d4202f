"""Agreements and the benefit register as CSV or Excel files.

Only what the user may see is written: the functions narrow the queryset they are given
with `visible_to(user)` themselves. CSV is UTF-8 with a byte-order mark (so Excel reads
æøå), comma-separated, numbers unquoted; XLSX has a bold, frozen header row with an
autofilter, real dates and numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from actors import scoping
from actors.models import Municipality
from rollout.models import Solution

from .models import Benefit, IntentAgreement
from .selectors import benefit_summary

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TEXT, INTEGER, DECIMAL, DATE = "text", "integer", "decimal", "date"
# Text that a spreadsheet would run as a formula ("CSV injection") is written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int = 15


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _label(model, field_name: str) -> str:
    return capfirst(str(model._meta.get_field(field_name).verbose_name))


def file_name(stem: str, fmt: str) -> str:
    return f"{stem}-{timezone.localdate().isoformat()}.{fmt}"


def table_response(stem: str, columns: Sequence[Column], rows: Iterable[Sequence], fmt: str):
    """An attachment named `<stem>-<today>.<fmt>` holding the rows under the columns."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format: {fmt}")
    rows = list(rows)
    body = csv_bytes([c.header for c in columns], rows) if fmt == CSV else _xlsx(columns, rows)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name(stem, fmt)}"'
    return response


def csv_value(value):
    """A cell for the CSV writer: empty for None, ISO dates, numbers as they are, and text
    a spreadsheet would run as a formula prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value  # int and Decimal are written as plain numbers (dot as decimal mark)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """A whole CSV file as described above (also used by benefits.report_files)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_value(h) for h in header])
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx(columns: Sequence[Column], rows: list[Sequence]) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet()
    formats = {
        TEXT: workbook.add_format({"text_wrap": False}),
        INTEGER: workbook.add_format({"num_format": "#,##0"}),
        DECIMAL: workbook.add_format({"num_format": "#,##0.00"}),
        DATE: workbook.add_format({"num_format": "dd.mm.yyyy"}),
    }
    header = workbook.add_format({"bold": True, "bottom": 1})
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width, formats[column.kind])
        sheet.write_string(0, col, column.header, header)
    for r, row in enumerate(rows, start=1):
        for col, (column, value) in enumerate(zip(columns, row, strict=True)):
            cell = formats[column.kind]
            if value is None or value == "":
                sheet.write_blank(r, col, None, cell)
            elif column.kind == DATE:
                sheet.write_datetime(r, col, value, cell)
            elif column.kind in (INTEGER, DECIMAL):
                number = float(value) if isinstance(value, Decimal) else value
                sheet.write_number(r, col, number, cell)
            else:
                # write_string, never write(): a title starting with "=" stays text.
                sheet.write_string(r, col, str(value), cell)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    workbook.close()
    return out.getvalue()


# --- intention agreements -------------------------------------------------------------


def agreement_columns() -> list[Column]:
    m = IntentAgreement
    return [
        Column(_label(m, "title"), TEXT, 40),
        Column(_label(m, "status"), TEXT, 12),
        Column(_label(m, "signed_date"), DATE, 12),
        Column(_label(m, "municipalities"), TEXT, 40),
        Column(_("Population covered"), INTEGER, 14),
        Column(_("Number of organisations"), INTEGER, 12),
        Column(_label(m, "solutions"), TEXT, 30),
        Column(_label(m, "clause_benefits"), TEXT, 12),
        Column(_label(m, "clause_financing"), TEXT, 12),
        Column(_label(m, "clause_risk_sharing"), TEXT, 12),
    ]


def agreement_rows(agreements) -> Iterable[list]:
    for a in agreements:
        municipalities = list(a.municipalities.all())
        solutions = [s.name for s in a.solutions.all()]
        yield [
            a.title,
            a.get_status_display(),
            a.signed_date,
            "; ".join(f"{m.number} {m.name}" for m in municipalities),
            sum(m.population for m in municipalities),
            len(a.organisations.all()),
            ", ".join(solutions) or _("The whole programme"),
            yes_no(a.clause_benefits),
            yes_no(a.clause_financing),
            yes_no(a.clause_risk_sharing),
        ]


def export_agreements(user, fmt: str, queryset=None) -> HttpResponse:
    """The agreements the user can see (of `queryset`, when given: e.g. a filtered list)."""
    agreements = (
        (queryset if queryset is not None else IntentAgreement.objects.all())
        .visible_to(user)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("municipalities", queryset=Municipality.objects.order_by("number")),
            Prefetch("solutions", queryset=Solution.objects.order_by("sort_order", "name")),
            "organisations",
        )
        .order_by("-signed_date", "title", "pk")
    )
    return table_response("intensjonsavtaler", agreement_columns(), agreement_rows(agreements), fmt)


# --- benefit register -----------------------------------------------------------------


def benefit_columns() -> list[Column]:
    b = Benefit
    return [
        Column(_label(b, "goal"), TEXT, 40),
        Column(_label(b, "name"), TEXT, 40),
        Column(_label(b, "indicator"), TEXT, 30),
        Column(_label(b, "unit"), TEXT, 12),
        Column(_label(b, "direction"), TEXT, 16),
        Column(_("Solutions"), TEXT, 30),
        Column(_label(b, "owner"), TEXT, 25),
        Column(_label(b, "baseline_required"), TEXT, 14),
        Column(_label(b, "target_value"), DECIMAL, 12),
        Column(_label(b, "target_date"), DATE, 12),
        Column(_("Reported"), INTEGER, 10),
        Column(_("Expected"), INTEGER, 10),
        Column(_("Realised in total"), DECIMAL, 14),
    ]


def benefit_rows(benefits, user) -> Iterable[list]:
    for b in benefits:
        summary = benefit_summary(b, user)  # counts only reports and organisations in scope
        yield [
            b.goal.name,
            b.name,
            b.indicator,
            b.unit,
            b.get_direction_display(),
            ", ".join(s.name for s in b.solutions.all()),
            b.owner,
            yes_no(b.baseline_required),
            b.target_value,
            b.target_date,
            summary.reported,
            summary.expected,
            summary.total_improvement,
        ]


def export_benefits(user, fmt: str, queryset=None) -> HttpResponse:
    """The benefit register (reference data for every role) with the realisation the user
    can see; users without a role get the header row only."""
    benefits = (queryset if queryset is not None else Benefit.objects.all()).select_related("goal")
    if not scoping.scope_for(user).role:
        benefits = benefits.none()
    benefits = benefits.prefetch_related(None).prefetch_related(
        Prefetch("solutions", queryset=Solution.objects.order_by("sort_order", "name"))
    )
    return table_response("gevinstregister", benefit_columns(), benefit_rows(benefits, user), fmt)
