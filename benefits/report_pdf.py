"""A status report (benefits.reports.Report) as a PDF, laid out with ReportLab's platypus:
A4 pages, upright, and turned for a table too wide for an upright page; the report's
title, place and date, a chart per result target, then each table with its heading and
note. The content is the Report's, as the preview, the workbook and the CSV files have
it; this module only lays it out.

Fast because nothing is measured twice: column widths come from the printed cells
(column_widths, as a share of the table's width), a cell is a plain string when it fits
its column on one line and a wrapping Paragraph only when it does not, and rows are told
apart by a shade on every other row. Fonts: DejaVu Sans from Debian (æøå and every other
Norwegian letter), or Bitstream Vera, which ReportLab ships, where DejaVu is not installed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import (
    Table as PdfTable,
)

from .reports import Report, Table, Trend
from .templatetags.report_tags import cell

WIDE_TABLES = {"omrader"}  # printed on a landscape page whatever their width
TEXT_CAP = 20  # characters: longer text wraps in its column
FIGURE = "n"  # the class of a figure column: right-aligned, kept on one line

FONT, BOLD = "ReportSans", "ReportSans-Bold"
FONT_FILES = [  # (regular, bold): Debian's DejaVu Sans, else the Vera that ReportLab ships
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
]
INK, MUTED, HEAD_INK = (
    colors.HexColor("#1d2733"),
    colors.HexColor("#5b6776"),
    colors.HexColor("#3d4a58"),
)
TITLE_INK, HEADER_BG, SHADE = (
    colors.HexColor("#0b3d63"),
    colors.HexColor("#dfe5ec"),
    colors.HexColor("#f1f4f7"),
)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 14 * mm, 16 * mm, 18 * mm
CELL_SIZE, HEADER_SIZE, MIN_SIZE = 7.5, 7.0, 5.5  # pt; a table too wide shrinks to MIN_SIZE
PAD_X, PAD_Y = 1.2 * mm, 0.9 * mm
WORD_CAP = 90.0  # pt: a longer word in a text column may be broken
SHORT = 1 / 3  # of a page: a section no longer is kept whole
KEEP_ROWS = 3  # a section's heading and note stay with its table's header and this many rows


# --- fonts ---------------------------------------------------------------------------


def _font_files() -> tuple[Path, Path]:
    for regular, bold in FONT_FILES:
        if regular.exists() and bold.exists():
            return regular, bold
    import reportlab

    shipped = Path(reportlab.__file__).parent / "fonts"
    return shipped / "Vera.ttf", shipped / "VeraBd.ttf"


@cache
def register_fonts() -> None:
    regular, bold = _font_files()
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def text_width(text: str, size: float, bold: bool = False) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, BOLD if bold else FONT, size)


# --- the tables' layout --------------------------------------------------------------


def column_widths(table: Table) -> list[float]:
    """Each column's share of the table's width in %: in proportion to the column's
    longest cell as printed (text capped at TEXT_CAP, so long texts wrap) or the longest
    word of its heading."""
    needs = []
    for i, column in enumerate(table.columns):
        word = max((len(w) for w in column.label.split()), default=0)
        longest = max((len(cell(row[i], column.kind)) for row in table.rows), default=0)
        if column.kind != "text":
            longest = round(longest * 1.5)  # digits are wider than the average letter
        needs.append(max(word, min(longest, TEXT_CAP), 4) + 2)  # + 2: the padding
    total = sum(needs)
    return [round(100 * need / total, 2) for need in needs]


def column_classes(table: Table) -> list[str]:
    """Each column's class in the PDF: FIGURE for figures and dates, which are kept on one
    line and right-aligned; "" for text, which wraps within its width. A figure column that
    holds text too (a forecast's reason where no date can be projected) wraps like text,
    or the text would run out of its column and off the page."""
    return [
        FIGURE
        if column.kind != "text" and not any(isinstance(row[i], str) for row in table.rows)
        else ""
        for i, column in enumerate(table.columns)
    ]


@dataclass
class PrintedTable:
    """A table as the PDF prints it: its cells as text, each column's width and class."""

    table: Table
    widths: list[float]  # % of the table's width
    classes: list[str]
    rows: list[list[str]]
    wide: bool

    @classmethod
    def of(cls, table: Table) -> PrintedTable:
        kinds = [c.kind for c in table.columns]
        return cls(
            table=table,
            widths=column_widths(table),
            classes=column_classes(table),
            rows=[[cell(v, k) for v, k in zip(row, kinds, strict=True)] for row in table.rows],
            wide=table.key in WIDE_TABLES,
        )

    @property
    def header(self) -> list[tuple[str, str]]:
        return list(zip([c.label for c in self.table.columns], self.classes, strict=True))

    def least(self, size: float) -> list[float]:
        """Per column: the narrowest it may be at `size` (cells at `size`, headings half a
        point smaller and bold): a figure column holds its longest figure on one line, a
        text column its longest word (up to WORD_CAP), and every column its heading's
        longest word, so that words are not broken."""
        least = []
        for i, (column, cls) in enumerate(zip(self.table.columns, self.classes, strict=True)):
            words = [text_width(w, size - 0.5, bold=True) for w in column.label.split()]
            if cls == FIGURE:
                words += [text_width(row[i], size) for row in self.rows]
            else:
                longest = max((len(w) for row in self.rows for w in row[i].split()), default=0)
                longest_words = {
                    w for row in self.rows for w in row[i].split() if len(w) == longest
                }
                words += [min(WORD_CAP, text_width(w, size)) for w in longest_words]
            least.append(max(words, default=0.0) + 2 * PAD_X + 1)  # + 1: rounding
        return least

    def needs(self, size: float) -> float:
        """The narrowest the table can be at `size`."""
        return sum(self.least(size))

    def points(self, width: float, size: float) -> list[float]:
        """The columns' widths in points within `width`: the shares of `widths`, a column
        narrower than its least widened to it at the cost of the columns with room to
        spare, in proportion to what they spare."""
        shares = [width * w / 100 for w in self.widths]
        least = self.least(size)
        short = sum(max(0.0, need - share) for need, share in zip(least, shares, strict=True))
        if not short:
            return shares
        spare = [max(0.0, share - need) for share, need in zip(shares, least, strict=True)]
        room = sum(spare)
        if short >= room:  # too narrow even so: each column its least, scaled to fit
            return [need * width / sum(least) for need in least]
        take = short / room
        return [
            max(need, share) if need >= share else share - free * take
            for share, need, free in zip(shares, least, spare, strict=True)
        ]


# --- styles --------------------------------------------------------------------------


@cache
def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=11, textColor=INK)
    return {
        "title": ParagraphStyle(
            "title", base, fontName=BOLD, fontSize=16, leading=20, textColor=TITLE_INK
        ),
        "muted": ParagraphStyle("muted", base, textColor=MUTED, spaceAfter=2 * mm),
        "heading": ParagraphStyle(
            "heading",
            base,
            fontName=BOLD,
            fontSize=11,
            leading=14,
            textColor=TITLE_INK,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
        ),
        "note": ParagraphStyle(
            "note", base, fontSize=7.5, leading=9.5, textColor=MUTED, spaceAfter=2 * mm
        ),
        "chart": ParagraphStyle("chart", base, fontName=BOLD, fontSize=8, leading=10),
    }


@cache
def _cell_styles(size: float) -> dict[str, ParagraphStyle]:
    register_fonts()
    leading = size * 1.25
    text = ParagraphStyle("cell", fontName=FONT, fontSize=size, leading=leading, textColor=INK)
    head = ParagraphStyle(
        "head",
        fontName=BOLD,
        fontSize=size - 0.5,
        leading=(size - 0.5) * 1.25,
        textColor=HEAD_INK,
    )
    return {
        "text": text,
        "head": head,
        "head_n": ParagraphStyle("head_n", head, alignment=TA_RIGHT),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


# --- the tables ------------------------------------------------------------------------


def _font_size(printed: PrintedTable, width: float) -> float:
    size = CELL_SIZE
    while size > MIN_SIZE and printed.needs(size) > width:
        size -= 0.5
    return size


def _pdf_table(printed: PrintedTable, width: float) -> PdfTable:
    size = _font_size(printed, width)
    widths = printed.points(width, size)
    styles = _cell_styles(size)
    header = [
        _p(label, styles["head_n" if cls == FIGURE else "head"]) for label, cls in printed.header
    ]
    room = [w - 2 * PAD_X for w in widths]
    body = [
        [
            text if cls == FIGURE or text_width(text, size) <= space else _p(text, styles["text"])
            for text, cls, space in zip(row, printed.classes, room, strict=True)
        ]
        for row in printed.rows
    ]
    commands = [
        ("FONT", (0, 0), (-1, -1), FONT, size, size * 1.25),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD_X),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD_X),
        ("TOPPADDING", (0, 0), (-1, -1), PAD_Y),
        ("BOTTOMPADDING", (0, 0), (-1, -1), PAD_Y),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, SHADE]),
    ]
    commands += [
        ("ALIGN", (i, 1), (i, -1), "RIGHT") for i, cls in enumerate(printed.classes) if cls
    ]
    return PdfTable(
        [header, *body],
        colWidths=widths,
        repeatRows=1,
        style=TableStyle(commands),
        hAlign="LEFT",
    )


def _section(printed: PrintedTable, width: float, frame_height: float) -> list:
    """A table's heading, note and table (or "nothing to show"): a short section kept
    whole on one page, a long one's heading and note kept with its header and first rows."""
    styles = _styles()
    table = printed.table
    parts = [_p(table.title, styles["heading"])]
    if table.note:
        parts.append(_p(table.note, styles["note"]))
    if not printed.rows:
        parts.append(_p(_("Nothing to show."), styles["muted"]))
        return [KeepTogether(parts)]
    pdf_table = _pdf_table(printed, width)
    parts.append(pdf_table)
    start, whole = _heights(parts, pdf_table, width)
    if whole <= SHORT * frame_height:
        return [KeepTogether(parts)]  # on the next page when it does not fit here
    # Break the page before the section when less room is left than its heading, note,
    # the table's header and KEEP_ROWS rows need; split the table otherwise.
    return [CondPageBreak(start), *parts]


def _heights(parts, pdf_table: PdfTable, width: float) -> tuple[float, float]:
    """The height of the section's start (heading, note, header, KEEP_ROWS rows) and of
    the whole section."""
    height = 0.0
    for part in parts[:-1]:
        _w, h = part.wrap(width, 10_000)
        height += h + part.getSpaceBefore() + part.getSpaceAfter()
    _w, whole = pdf_table.wrap(width, 10_000)
    start = sum(pdf_table._rowHeights[: 1 + KEEP_ROWS])
    return height + start + 1, height + whole


# --- the trend charts ------------------------------------------------------------------


def trend_drawing(
    trend: Trend, width: float, height: float, *, ticks=(0, 0.5, 1.0), months: int = 4
) -> Drawing:
    """A target's trend: the share per month, the threshold dashed, the deadline marked
    when it falls inside the period; `ticks` are the shares marked on the axis and about
    `months` months are labelled."""
    register_fonts()
    left, right, top, bottom = 30.0, 6.0, 6.0, 14.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(trend.values), 2)
    grid, size = colors.HexColor("#e3e8ee"), 6.5

    def x(i: float) -> float:
        return left + plot_w * i / (n - 1)

    def y(share: float) -> float:
        return bottom + plot_h * max(0.0, min(1.0, share))

    drawing = Drawing(width, height, initialFontName=FONT, initialFontSize=size)
    for tick in ticks:
        drawing.add(Line(left, y(tick), width - right, y(tick), strokeColor=grid))
        drawing.add(
            String(
                left - 3,
                y(tick) - 2,
                f"{round(tick * 100)} %",
                fontName=FONT,
                fontSize=size,
                fillColor=MUTED,
                textAnchor="end",
            )
        )
    step = max(1, len(trend.labels) // months)
    for i in range(0, len(trend.labels), step):
        anchor = "start" if i == 0 else "end" if i == len(trend.labels) - 1 else "middle"
        drawing.add(
            String(
                x(i),
                3,
                trend.labels[i],
                fontName=FONT,
                fontSize=size,
                fillColor=MUTED,
                textAnchor=anchor,
            )
        )
    deadline = trend.deadline.strftime("%m.%Y")
    if deadline in trend.labels:
        i = trend.labels.index(deadline)
        red = colors.HexColor("#b3261e")
        label = _("Deadline %(d)s") % {"d": trend.deadline.strftime("%d.%m.%Y")}
        drawing.add(
            Line(x(i), bottom, x(i), bottom + plot_h, strokeColor=red, strokeDashArray=[4, 3])
        )
        fits_left = text_width(label, size) + 3 <= x(i) - left
        drawing.add(
            String(
                x(i) - 3 if fits_left else x(i) + 3,
                bottom + plot_h - 8,
                label,
                fontName=FONT,
                fontSize=size,
                fillColor=red,
                textAnchor="end" if fits_left else "start",
            )
        )
    drawing.add(
        Line(
            left,
            y(trend.threshold),
            width - right,
            y(trend.threshold),
            strokeColor=colors.HexColor("#7a4a00"),
            strokeDashArray=[6, 4],
        )
    )
    points = [c for i, v in enumerate(trend.values) if v is not None for c in (x(i), y(v))]
    if len(points) >= 4:
        drawing.add(PolyLine(points, strokeColor=colors.HexColor("#12639e"), strokeWidth=1.5))
    return drawing


def _charts(trends: list[Trend], width: float) -> list:
    styles = _styles()
    if not trends:
        return []
    half = (width - 4 * mm) / 2
    cells = [[_p(t.title, styles["chart"]), trend_drawing(t, half, half * 0.375)] for t in trends]
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append("")
    grid = PdfTable(
        rows,
        colWidths=[half + 2 * mm, half + 2 * mm],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        ),
        hAlign="LEFT",
    )
    heading = [
        _p(_("Result targets over time"), styles["heading"]),
        _p(_("Share at the end of each month; the threshold dashed."), styles["note"]),
    ]
    # The heading and note stay with the first row of charts.
    return [CondPageBreak(half * 0.375 + 60), *heading, grid]


# --- the document ----------------------------------------------------------------------


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _footer_text(report: Report) -> str:
    made = _local(report.generated_at).strftime("%d.%m.%Y")
    return f"{report.title} – {report.place.name} – {made}"


def _canvas_maker(footer: str):
    class NumberedCanvas(pdfcanvas.Canvas):
        """Puts "page / pages" and the report's name at the foot of every page, once
        the number of pages is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._foot(number, total)
                super().showPage()
            super().save()

        def _foot(self, number: int, total: int) -> None:
            page_w = self._pagesize[0]
            self.setFont(FONT, 8)
            self.setFillColor(MUTED)
            y = MARGIN_BOTTOM / 2
            pages = f"{number} / {total}"
            self.drawRightString(page_w - MARGIN_X, y, pages)
            room = page_w - 2 * MARGIN_X - text_width(pages, 8) - 6 * mm
            text = footer
            while text and text_width(text, 8) > room:
                text = text[:-2] + "…"
            self.drawString(MARGIN_X, y, text)

    return NumberedCanvas


def _frame_size(pagesize) -> tuple[float, float]:
    return pagesize[0] - 2 * MARGIN_X, pagesize[1] - MARGIN_TOP - MARGIN_BOTTOM


def _page_template(name: str, pagesize) -> PageTemplate:
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        *_frame_size(pagesize),
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id=name,
    )
    return PageTemplate(id=name, frames=[frame], pagesize=pagesize)


UPRIGHT, TURNED = "upright", "turned"


def story(report: Report) -> list:
    """The report's flowables: the title and what it is about, the charts, the tables
    (a table too wide for an upright page on pages of its own, turned)."""
    styles = _styles()
    upright, turned = _frame_size(A4), _frame_size(landscape(A4))
    at = _local(report.generated_at).strftime("%d.%m.%Y %H:%M")
    about = _(
        "%(place)s · changes since %(since)s · made %(at)s for %(who)s, with what "
        "that user may see."
    ) % {
        "place": report.place.name,
        "since": report.since.strftime("%d.%m.%Y"),
        "at": at,
        "who": report.generated_for,
    }
    flow = [_p(report.title, styles["title"]), Spacer(0, 1 * mm), _p(about, styles["muted"])]
    flow += _charts(report.trends, upright[0])
    turned_now = False
    for table in report.tables:
        printed = PrintedTable.of(table)
        wide = printed.wide or printed.needs(CELL_SIZE) > upright[0]
        if wide != turned_now:
            flow += [NextPageTemplate(TURNED if wide else UPRIGHT), PageBreak()]
            turned_now = wide
        flow += _section(printed, *(turned if wide else upright))
    return flow


def to_pdf(report: Report) -> bytes:
    import io

    register_fonts()
    out = io.BytesIO()
    document = BaseDocTemplate(
        out,
        pagesize=A4,
        title=report.title,
        subject=report.place.name,
        author=report.generated_for,
        initialFontName=FONT,  # no Helvetica: every text in the embedded font
        pageTemplates=[_page_template(UPRIGHT, A4), _page_template(TURNED, landscape(A4))],
    )
    document.build(story(report), canvasmaker=_canvas_maker(_footer_text(report)))
    return out.getvalue()
