"""Files to download. Tables as CSV or Excel files: the one writer behind every export of
the application (agreements, the benefit register, the change log, the status reports'
zipped CSV); and the responses that send a file, made now (`attachment`) or stored
(`stored_attachment`, `job_file`). The API's side (`?format=`) is actors.api.files.

CSV is written for Excel in Norway, which opens a double-clicked file with `;` between
fields and a decimal comma: UTF-8 with a byte-order mark (so Excel reads æøå), `;`
between fields, CRLF line ends; whole numbers as they are, decimals with a comma (`12,5`),
dates as YYYY-MM-DD, all unquoted; every other field is text, always in double quotes and
passed through `safe_cell`, so no spreadsheet runs it as a formula ("CSV injection").

XLSX has a bold, frozen header row with an autofilter, real dates and numbers, and text
written as text (never as a formula).
"""

from __future__ import annotations

import datetime
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PDF_TYPE = "application/pdf"
TEXT, INTEGER, DECIMAL, DATE = "text", "integer", "decimal", "date"

CSV_DELIMITER = ";"
CSV_DECIMAL_MARK = ","
# A cell starting with one of these is run as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula start at the beginning of the text, or after any character a reader might
# split fields or lines on (with spaces in between): a reader that ignores our quotes,
# or splits on another delimiter, must not find a formula in any piece either.
# A lone trailing "+" or "-" ("kr 100,-") is no formula and stays as it is.
_FORMULA = re.compile(r"(^|[,;|\t\r\n])( *)(?=[=+\-@\t\r].)", re.DOTALL)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int = 15


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def file_name(stem: str, fmt: str) -> str:
    return f"{stem}-{timezone.localdate().isoformat()}.{fmt}"


def table_response(stem: str, columns: Sequence[Column], rows: Iterable[Sequence], fmt: str):
    """An attachment named `<stem>-<today>.<fmt>` holding the rows under the columns."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format: {fmt}")
    rows = list(rows)
    body = csv_bytes([c.header for c in columns], rows) if fmt == CSV else _xlsx(columns, rows)
    return attachment(body, CONTENT_TYPES[fmt], file_name(stem, fmt))


def table_stream_response(
    stem: str, columns: Sequence[Column], rows: Iterable[Sequence], fmt: str
) -> HttpResponse:
    """`table_response` for long tables (a list's every matching row): the rows are read
    as they are written, never all held at once. CSV is streamed line by line; XLSX is
    written row by row (XlsxWriter's constant_memory) and sent when complete."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format: {fmt}")
    if fmt == XLSX:
        body = _xlsx(columns, rows, constant_memory=True)
        return attachment(body, CONTENT_TYPES[fmt], file_name(stem, fmt))

    def lines():
        yield "\ufeff" + csv_line([c.header for c in columns])
        for row in rows:
            yield csv_line(row)

    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in lines()), content_type=CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = content_disposition_header(True, file_name(stem, fmt))
    return response


# --- responses ------------------------------------------------------------------------


def attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    """A file made now, sent to be saved (not shown) under `filename`."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def stored_attachment(handle, filename: str, content_type: str | None) -> FileResponse:
    """A stored file (an open handle, closed when sent) to be saved under `filename`;
    without a content type, the one its name suggests."""
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


def job_file(job) -> FileResponse:
    """The file a job made (`job.result`: where it is stored, its name and type). Raises
    FileNotFoundError when the file is gone; check `job.has_file` first."""
    from django.core.files.storage import default_storage

    return stored_attachment(
        default_storage.open(job.result["file"], "rb"),
        job.result["filename"],
        job.result.get("content_type"),
    )


# --- CSV ------------------------------------------------------------------------------


def safe_cell(text: str) -> str:
    """`text` with an apostrophe before every formula start (= + - @ tab CR) at its
    beginning or after a delimiter or line break, so that no spreadsheet, whichever
    delimiter it splits on, reads any part of it as a formula."""
    return _FORMULA.sub(r"\1\2'", text)


def decimal_comma(value: Decimal | float) -> str:
    """A decimal number as Norwegian Excel reads it: `12,5`, never in exponent form."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        value = Decimal(repr(value))
    return format(value, "f").replace(".", CSV_DECIMAL_MARK)


def csv_field(value) -> str:
    """One field, quoted and escaped as the module describes."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal | float):
        return decimal_comma(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return '"' + safe_cell(str(value)).replace('"', '""') + '"'


def csv_line(row: Iterable) -> str:
    return CSV_DELIMITER.join(csv_field(v) for v in row) + "\r\n"


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """A whole CSV file: the header row, then the rows."""
    out = io.StringIO()
    out.write("\ufeff")
    out.write(csv_line(header))
    for row in rows:
        out.write(csv_line(row))
    return out.getvalue().encode("utf-8")


# --- XLSX -----------------------------------------------------------------------------


def _xlsx(columns: Sequence[Column], rows: Iterable[Sequence], constant_memory=False) -> bytes:
    """`constant_memory`: each row is flushed to a temporary file as it is written."""
    out = io.BytesIO()
    options = {"constant_memory": True} if constant_memory else {"in_memory": True}
    workbook = xlsxwriter.Workbook(out, options)
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
    r = 0
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
    sheet.autofilter(0, 0, max(r, 1), len(columns) - 1)
    workbook.close()
    return out.getvalue()
