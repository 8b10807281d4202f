"""A status report (benefits.reports.Report) as a file: an Excel workbook, a zip of CSV
files, or a PDF. All three are drawn from the same Report as the HTML preview, so the
files hold what the preview shows; only the formatting differs.

- XLSX: a sheet about the report (place, period, who it was made for, its sections), one
  sheet per table with real numbers, shares and dates under number formats, and a sheet
  of the trends with a native line chart per target.
- CSV (zipped, one file per table plus `trender.csv`): written like every other export
  (actors.exports): UTF-8 with a byte-order mark, `;`-separated, numbers unquoted with a
  decimal comma, shares as fractions (0,8174 is 81.74 %), dates as YYYY-MM-DD, text
  quoted and safe from formulas, as Excel in Norway opens a double-clicked file.
- PDF: laid out with ReportLab (benefits.report_pdf): A4 pages, a chart per target, each
  table with its heading and note, turned pages for the wide tables.
"""

from __future__ import annotations

import datetime
import io
import zipfile

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from actors import exports

from .report_pdf import to_pdf
from .reports import Column, Report, Table, Trend

XLSX, CSV, PDF = "xlsx", "csv", "pdf"
FORMATS = (XLSX, CSV, PDF)
CONTENT_TYPES = {
    XLSX: exports.CONTENT_TYPES[exports.XLSX],
    CSV: "application/zip",
    PDF: "application/pdf",
}
EXTENSIONS = {XLSX: "xlsx", CSV: "zip", PDF: "pdf"}

NUMBER_FORMATS = {
    "int": "#,##0",
    "percent": "0.0%",
    "date": "dd.mm.yyyy",
    "number": "0.00",  # the benefit figures, rounded to hundredths where they are computed
}
SHARE_DECIMALS = 4  # in CSV: 0.8174 = 81.74 %, one digit more than the files show
SHEET_NAME_MAX = 31  # Excel's limit, counted in UTF-16 code units
SHEET_NAME_FORBIDDEN = str.maketrans("", "", "[]:*?/\\")
WIDTH_MIN, WIDTH_MAX, LABEL_WIDTH_MAX = 8, 60, 30  # longer headers wrap
HEADER_ROW = 2  # 0-based: the table title in row 1, its note in row 2, the header in row 3
TRENDS_FILE = "trender.csv"
CHART_WIDTH, CHART_HEIGHT, CHART_ROWS = 520, 260, 14


def render(report: Report, fmt: str) -> bytes:
    """The report as a file in `fmt` (one of FORMATS)."""
    renderers = {XLSX: to_xlsx, CSV: to_csv_zip, PDF: to_pdf}
    if fmt not in renderers:
        raise ValueError(f"unknown report format: {fmt}")
    return renderers[fmt](report)


# --- XLSX -----------------------------------------------------------------------------


def to_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    workbook.set_properties(
        {"title": report.title, "subject": report.place.name, "author": report.generated_for}
    )
    styles = _styles(workbook)
    taken: set[str] = set()
    about = workbook.add_worksheet(_sheet_name(_("About the report"), taken))
    sheets = [(_sheet_name(t.title, taken, t.key), t) for t in report.tables]
    trends_sheet = _sheet_name(_("Trends"), taken)
    _write_about(about, report, sheets, trends_sheet, styles)
    for name, table in sheets:
        _write_table(workbook.add_worksheet(name), table, styles)
    _write_trends(workbook, workbook.add_worksheet(trends_sheet), report.trends, styles)
    workbook.close()
    return out.getvalue()


def _styles(workbook) -> dict:
    add = workbook.add_format
    styles = {kind: add({"num_format": f, "valign": "top"}) for kind, f in NUMBER_FORMATS.items()}
    styles.update(
        text=add({"valign": "top"}),
        wrap=add({"valign": "top", "text_wrap": True}),
        title=add({"bold": True, "font_size": 14}),
        note=add({"italic": True, "font_color": "#5B6776"}),
        label=add({"bold": True, "valign": "top"}),
        datetime=add({"num_format": "dd.mm.yyyy hh:mm", "align": "left"}),
        day=add({"num_format": "dd.mm.yyyy", "align": "left"}),
        month=add({"num_format": "mm.yyyy", "align": "left"}),
        link=add({"font_color": "#12639E", "underline": 1, "valign": "top"}),
    )
    header = {"bold": True, "bg_color": "#D9D9D9", "bottom": 1, "text_wrap": True}
    styles["header"] = add({**header, "valign": "top"})
    styles["header_num"] = add({**header, "valign": "top", "align": "right"})
    return styles


def _sheet_name(title: str, taken: set[str], fallback: str = "-") -> str:
    """A valid sheet name from a title, unique in the workbook (Excel compares names
    without regard to case): no []:*?/\\, at most 31 characters, cut at a word."""
    base = " ".join(title.translate(SHEET_NAME_FORBIDDEN).split()).strip("'") or fallback
    n = 1
    while True:
        suffix = f" ({n})" if n > 1 else ""
        name = _shorten(base, SHEET_NAME_MAX - len(suffix)) + suffix
        if name.lower() not in taken and name.lower() != "history":  # reserved by Excel
            taken.add(name.lower())
            return name
        n += 1


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _shorten(text: str, limit: int) -> str:
    if _utf16_len(text) <= limit:
        return text
    cut = text
    while _utf16_len(cut + "…") > limit:
        cut = cut[:-1]
    word = cut.rsplit(" ", 1)[0] if " " in cut else cut
    if len(word) >= len(cut) // 2:  # cut at a word unless that loses half the text
        cut = word
    return cut.rstrip(" -–,.'") + "…"


def _write_about(sheet, report: Report, sheets, trends_sheet: str, styles) -> None:
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 12)
    sheet.set_column(2, 2, 90)
    sheet.write_string(0, 0, report.title, styles["title"])
    facts = [
        (_("Place"), report.place.name, styles["text"]),
        (_("Changes since"), report.since, styles["day"]),
        (_("Generated"), _local(report.generated_at), styles["datetime"]),
        (_("Generated for"), report.generated_for, styles["text"]),
    ]
    row = 2
    for label, value, style in facts:
        sheet.write_string(row, 0, label, styles["label"])
        if isinstance(value, datetime.date):
            sheet.write_datetime(row, 1, value, style)
        else:
            sheet.write_string(row, 1, str(value), style)
        row += 1
    sheet.write_string(
        row, 0, _("The figures are those the user may see, as of the time made."), styles["note"]
    )
    row += 2
    for col, label in enumerate([_("Section"), _("Rows"), _("Note")]):
        sheet.write_string(row, col, label, styles["header_num" if col == 1 else "header"])
    contents = [(name, t.title, len(t.rows), t.note) for name, t in sheets]
    months = len(_months(report.trends))
    trend_note = _("Share at the end of each month; the threshold dashed.")
    contents.append((trends_sheet, _("Result targets over time"), months, trend_note))
    for name, title, rows, note in contents:
        row += 1
        quoted = name.replace("'", "''")
        sheet.write_url(row, 0, f"internal:'{quoted}'!A1", styles["link"], string=title)
        sheet.write_number(row, 1, rows, styles["int"])
        sheet.write_string(row, 2, note, styles["wrap"])
    sheet.activate()


def _local(moment: datetime.datetime) -> datetime.datetime:
    """Local wall-clock time without a zone (spreadsheets and zip entries know none)."""
    return timezone.localtime(moment).replace(tzinfo=None) if timezone.is_aware(moment) else moment


def _display(value, kind: str) -> str:
    """Roughly what Excel shows in the cell, to size the column."""
    if value is None or value == "":
        return ""
    if kind == "int":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{float(value) * 100:.1f} %"
    if kind == "number":
        return f"{float(value):.2f}"
    if kind == "date":
        return "00.00.0000" if isinstance(value, datetime.date) else str(value)
    return str(value)


def _width(column: Column, values) -> int:
    longest = max((len(_display(v, column.kind)) for v in values), default=0)
    label = len(column.label) if column.kind == "text" else min(len(column.label), 14)
    return max(WIDTH_MIN, min(WIDTH_MAX, max(longest, min(label, LABEL_WIDTH_MAX)) + 2))


def _write_cell(sheet, row: int, col: int, value, kind: str, styles) -> None:
    style = styles.get(kind, styles["text"])
    if value is None or value == "":
        sheet.write_blank(row, col, None, style)
    elif kind in ("int", "percent", "number"):
        sheet.write_number(row, col, float(value), style)
    elif kind == "date" and isinstance(value, datetime.date):
        sheet.write_datetime(row, col, value, style)
    else:
        # write_string, never write(): a name starting with "=" stays text.
        sheet.write_string(row, col, str(value), style)


def _write_table(sheet, table: Table, styles) -> None:
    sheet.write_string(0, 0, table.title, styles["title"])
    if table.note:
        sheet.write_string(1, 0, table.note, styles["note"])
    elif not table.rows:
        sheet.write_string(1, 0, _("Nothing to show."), styles["note"])
    for col, column in enumerate(table.columns):
        values = [row[col] for row in table.rows]
        sheet.set_column(col, col, _width(column, values))
        header = styles["header"] if column.kind == "text" else styles["header_num"]
        sheet.write_string(HEADER_ROW, col, column.label, header)
        for r, value in enumerate(values, start=HEADER_ROW + 1):
            _write_cell(sheet, r, col, value, column.kind, styles)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + len(table.rows), len(table.columns) - 1)


# --- trends (XLSX sheet and CSV file alike) -------------------------------------------


def _month(label: str) -> datetime.date:
    month, year = label.split(".")
    return datetime.date(int(year), int(month), 1)


def _months(trends: list[Trend]) -> list[datetime.date]:
    """Every month any trend has a point for, oldest first (trends may start apart)."""
    return sorted({_month(label) for t in trends for label in t.labels})


def _trend_header(trends: list[Trend]) -> list[str]:
    return [
        _("Month"),
        *[t.title for t in trends],
        *[_("Threshold: %(t)s") % {"t": t.title} for t in trends],
    ]


def _trend_rows(trends: list[Trend]) -> list[list]:
    """Per month: the month, each target's share (None when it has no point then), then
    each target's threshold (so that a chart can draw it as a line)."""
    shares = [dict(zip(map(_month, t.labels), t.values, strict=True)) for t in trends]
    return [
        [month, *[s.get(month) for s in shares], *[t.threshold for t in trends]]
        for month in _months(trends)
    ]


def _write_trends(workbook, sheet, trends: list[Trend], styles) -> None:
    sheet.write_string(0, 0, _("Result targets over time"), styles["title"])
    sheet.write_string(
        1, 0, _("Share at the end of each month; the threshold dashed."), styles["note"]
    )
    header, rows = _trend_header(trends), _trend_rows(trends)
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, len(header) - 1, 16)
    for col, label in enumerate(header):
        sheet.write_string(HEADER_ROW, col, label, styles["header" if col == 0 else "header_num"])
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        sheet.write_datetime(r, 0, row[0], styles["month"])
        for col, value in enumerate(row[1:], start=1):
            _write_cell(sheet, r, col, value, "percent", styles)
    sheet.freeze_panes(HEADER_ROW + 1, 1)
    if not trends:
        sheet.write_string(HEADER_ROW + 1, 0, _("Nothing to show."), styles["note"])
        return
    first, last = HEADER_ROW + 1, HEADER_ROW + len(rows)
    chart_col = len(header) + 1
    for i, trend in enumerate(trends):
        share_col, threshold_col = 1 + i, 1 + len(trends) + i
        chart = workbook.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": [sheet.name, HEADER_ROW, share_col],
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, share_col, last, share_col],
                "line": {"color": "#12639E", "width": 2},
            }
        )
        chart.add_series(
            {
                "name": _("Threshold"),
                "categories": [sheet.name, first, 0, last, 0],
                "values": [sheet.name, first, threshold_col, last, threshold_col],
                "line": {"color": "#7A4A00", "width": 1.25, "dash_type": "dash"},
            }
        )
        chart.set_title({"name": trend.title, "name_font": {"size": 11, "bold": True}})
        chart.set_y_axis(
            {"min": 0, "max": 1, "major_unit": 0.2, "num_format": "0%", "major_gridlines": {}}
        )
        chart.set_x_axis({"num_format": "mm.yyyy", "date_axis": True, "base_unit": "months"})
        chart.set_legend({"position": "bottom"})
        chart.show_blanks_as("gap")
        chart.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
        sheet.insert_chart(
            HEADER_ROW + (i // 2) * CHART_ROWS,
            chart_col,
            chart,
            {"x_offset": (i % 2) * (CHART_WIDTH + 12), "object_position": 3},
        )


# --- CSV ------------------------------------------------------------------------------


def _csv_cell(value, kind: str):
    if isinstance(value, float) and kind in ("percent", "number"):
        return round(value, SHARE_DECIMALS if kind == "percent" else 6)
    return value  # ints, dates and text as actors.exports writes them


def to_csv_zip(report: Report) -> bytes:
    """A zip of `01-<table key>.csv`, … (in the report's order) and `trender.csv`."""
    out = io.BytesIO()
    stamp = _local(report.generated_at).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, body: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)

        for n, table in enumerate(report.tables, start=1):
            kinds = [c.kind for c in table.columns]
            rows = (
                [_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)] for row in table.rows
            )
            add(
                f"{n:02d}-{table.key}.csv",
                exports.csv_bytes([c.label for c in table.columns], rows),
            )
        trend_rows = (
            [month.strftime("%Y-%m"), *[_csv_cell(v, "percent") for v in values]]
            for month, *values in _trend_rows(report.trends)
        )
        add(TRENDS_FILE, exports.csv_bytes(_trend_header(report.trends), trend_rows))
        archive.comment = f"{report.title} – {report.place.name}".encode()[:65535]
    return out.getvalue()
