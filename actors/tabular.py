"""Reading a CSV file as people have them, without guessing silently (issue 16).

- Text: UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's "Unicode-tekst"), else
  Windows-1252 as Excel writes it; anything else is refused with what to do.
- Separator: comma, semicolon, tab or bar, from the header line.
- Every physical line is accounted for: the header, the rows (a row may span lines inside
  quotes, and is named by the line it starts on), and blank lines (counted). A row with
  more fields than the header (other than empty trailing ones Excel adds) or fewer, a
  quote that is never closed, or a quoted field that swallows what looks like whole rows
  (a stray quote) refuses the file, naming the line where the row starts and what to fix.
  No size limit on a field crashes the reader.

Every import (registry, statuses, structure changes) reads its file here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

# A field may be as long as the file: a stray quote is then found by the checks below,
# not by the csv module's 128 KiB limit (which raised a server error).
csv.field_size_limit(2**31 - 1)

DELIMITERS = ",;\t|"
MAX_LISTED = 10  # structural problems named in one refusal


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header, broken rows)."""


def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read as."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("The file starts as UTF-16 text but is broken. Save it again as CSV (UTF-8).")
            ) from exc
    if b"\x00" in raw[:4096]:
        raise ImportFileError(
            _(
                "The file contains NUL bytes: it looks like UTF-16 text without its byte order "
                "mark, or is not a text file. Save it as CSV (UTF-8)."
            )
        )
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1252 text. Save it as CSV (UTF-8).")
        ) from exc


@dataclass
class Table:
    rows: list[tuple[int, dict[str, str]]]  # (line the row starts on, {column: value})
    delimiter: str
    ignored: list[str]  # columns in the file that the import does not read
    lines: int = 0  # physical lines in the file
    blank_lines: int = 0
    spanning_rows: int = 0  # rows whose quoted fields continue over several lines


def _sniff(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


class TableReader:
    """Reads `text` row by row (a large file is never held as a list of rows): the header is
    checked at once; iterating yields (line the row starts on, {column: value}) and, at
    the end, raises ImportFileError naming every broken row (before anything is written,
    as callers write only after reading everything)."""

    def __init__(self, text: str, required, optional=()):
        self.text = text
        self.delimiter = _sniff(text)
        self.reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=self.delimiter, strict=True
        )
        try:
            header = next(self.reader)
        except StopIteration:
            raise ImportFileError(_("The file is empty.")) from None
        except csv.Error as exc:
            raise ImportFileError(
                _("Line 1 (the header) cannot be read: %(e)s.") % {"e": exc}
            ) from exc
        columns = [h.strip().lstrip("\ufeff").casefold() for h in header]
        while columns and not columns[-1]:
            columns.pop()  # empty trailing header cells (Excel)
        missing = [c for c in required if c not in columns]
        if missing:
            raise ImportFileError(
                _("The header row lacks the column(s) %(missing)s. Required: %(required)s.")
                % {"missing": ", ".join(missing), "required": ", ".join(required)}
            )
        self.columns = columns
        self.ignored = [c for c in columns if c not in (*required, *optional) and c]
        self.present = {c for c in optional if c in columns}
        self.lines = self.blank_lines = self.spanning_rows = 0
        self.problems: list[str] = []

    def __iter__(self):
        reader, columns, delimiter = self.reader, self.columns, self.delimiter
        end = reader.line_num
        while True:
            start = end + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # The reader cannot go on after this; the row's first line is what to see.
                if "end of data" in str(exc):
                    message = _(
                        "Line %(line)s: a quotation mark opens a field that is never closed, "
                        'so the rest of the file would be read into it. Remove the stray " or '
                        "close the quote."
                    )
                else:
                    message = _(
                        "Line %(line)s: a quotation mark opens a field that runs on to line "
                        "%(end)s, where text follows its closing quote. Remove the stray quote "
                        'on line %(line)s, or write a quote inside a quoted field as "".'
                    )
                self.problems.append(message % {"line": start, "end": reader.line_num})
                break
            end = reader.line_num
            if not any(v.strip() for v in values):
                self.blank_lines += end - start + 1
                continue
            if end > start:
                self.spanning_rows += 1
                swallowed = _swallowed_line(values, delimiter, len(columns))
                if swallowed:
                    self.problems.append(
                        _(
                            "Line %(line)s: a quoted field runs on to line %(end)s and takes "
                            "in what looks like a whole row (“%(text)s”). A quotation mark is "
                            "probably missing or stray on line %(line)s."
                        )
                        % {"line": start, "end": end, "text": swallowed[:60]}
                    )
                    continue
            while len(values) > len(columns) and not values[-1].strip():
                values.pop()  # empty trailing cells (Excel)
            if len(values) != len(columns):
                self.problems.append(
                    _(
                        "Line %(line)s has %(n)s fields, the header has %(h)s. Check the "
                        "separators (%(d)s) and quotation marks in that row."
                    )
                    % {
                        "line": start,
                        "n": len(values),
                        "h": len(columns),
                        "d": {"\t": _("tab")}.get(delimiter, delimiter),
                    }
                )
                continue
            row = {c: values[i].strip() for i, c in enumerate(columns)}
            row["_present"] = self.present
            yield start, row
        text = self.text
        self.lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if self.problems:
            shown = self.problems[:MAX_LISTED]
            more = len(self.problems) - len(shown)
            if more:
                shown.append(_("… and %(n)s more such rows.") % {"n": more})
            raise ImportFileError(
                _("The file's rows cannot be read safely; nothing was imported.")
                + " "
                + " ".join(shown)
            )


class FileRows:
    """The rows of a file for callers that pass over them more than once without holding
    them all (a 50 000-row import): the first pass, here, checks every row and counts
    them; each further iteration reads the text again. `reader` is the first pass's
    TableReader (separator, ignored columns, line counts)."""

    def __init__(self, text: str, required, optional=()):
        self.text, self.required, self.optional = text, required, optional
        self.reader = TableReader(text, required, optional)
        self.count = sum(1 for _row in self.reader)

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return iter(TableReader(self.text, self.required, self.optional))


def read_table(text: str, required, optional=()) -> Table:
    """Every row of `text` by header name (case-insensitive; the header is line 1). Raises
    ImportFileError for a missing column or broken rows (all named at once)."""
    reader = TableReader(text, required, optional)
    rows = list(reader)
    return Table(
        rows,
        reader.delimiter,
        reader.ignored,
        reader.lines,
        reader.blank_lines,
        reader.spanning_rows,
    )


def _swallowed_line(values: list[str], delimiter: str, columns: int) -> str:
    """A continuation line inside a quoted field that has as many separators as a row: the
    sign of an unclosed quote rather than a real line break in a name."""
    if columns < 2:
        return ""
    for value in values:
        for line in value.splitlines()[1:]:
            if line.count(delimiter) >= columns - 1:
                return line
    return ""


def read_rows(text: str, required, optional=()) -> tuple[list, str, list[str]]:
    """(rows, delimiter, ignored columns): `read_table` for callers that need no more."""
    table = read_table(text, required, optional)
    return table.rows, table.delimiter, table.ignored
