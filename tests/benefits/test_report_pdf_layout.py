"""The report PDF's layout (benefits.report_pdf, ReportLab): every text of the PDF lies
within its page (issue 18), read back from the PDF itself: each run of text's position
and, from the font's widths, its end; wide tables on turned pages or in a smaller font;
column widths that follow the content; Norwegian letters in an embedded font; charts."""

import datetime
import io

import pypdf
import pytest
from django.utils.translation import gettext
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from benefits import report_pdf, reports
from benefits.reports import Column, Report, Table, Trend

EDGE = 0.5  # pt of rounding


def text_runs(data: bytes) -> list[dict]:
    """Every run of text the PDF draws: its page, text, left and right end and baseline
    (in points, the page's origin at its lower left) and the page's size. The right end
    is the run's width in the report's font (bold where the PDF names a bold font)."""
    report_pdf.register_fonts()
    pdf = pypdf.PdfReader(io.BytesIO(data))
    runs = []
    for number, page in enumerate(pdf.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(text, cm, tm, font, size, number=number, width=width, height=height):
            text = text.strip("\n")
            if not text.strip():
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = tm[0] * cm[0]
            bold = "Bold" in str((font or {}).get("/BaseFont", ""))
            end = x + report_pdf.text_width(text, size * scale, bold=bold)
            runs.append(
                {"page": number, "text": text, "x0": x, "x1": end, "y": y}
                | {"width": width, "height": height}
            )

        page.extract_text(visitor_text=visit)
    return runs


def outside(runs: list[dict]) -> list[dict]:
    """The runs of text that reach beyond their page."""
    return [
        r
        for r in runs
        if r["x0"] < -EDGE
        or r["x1"] > r["width"] + EDGE
        or not 0 <= r["y"] <= r["height"] - 4  # the baseline, a glyph's height below the top
    ]


def wide_report(targets: int = 9) -> Report:
    """A report with a figure column that holds text (a forecast's reason) and a table of
    many long-named target columns, as the national report's area table has."""
    names = [f"Dokumentdeling: avtalespesialister, legevakt og ØHD/KAD {i}" for i in range(targets)]
    forecast = Table(
        "resultatmal",
        "Resultatmål",
        [Column("Mål"), Column("Andel", "percent"), Column("Prognose", "date")],
        rows=[
            ["Kritisk informasjon: sykehjem og ØHD/KAD", 0.5, datetime.date(2027, 1, 31)],
            [
                "Kritisk informasjon: fastleger",
                0.004,
                "Ingen fremgang de siste tolv månedene: ingen dato kan anslås.",
            ],
        ],
        note="Prognose: datoen terskelen nås i tempoet til en rett linje.",
    )
    areas = Table(
        "omrader",
        "Helseforetaksområder",
        [
            Column("Område"),
            Column("Regionalt helseforetak"),
            Column("PLL-fase"),
            Column("Planlagt oppstart", "date"),
            Column("Startet", "date"),
            *[Column(t, "percent") for t in names],
        ],
        rows=[
            [
                f"Akershus universitetssykehus HF {i}",
                "Helse Sør-Øst RHF",
                "Begrenset bredding",
                datetime.date(2027, 9, 1),
                datetime.date(2023, 4, 17),
                *[1.0 for _t in names],
            ]
            for i in range(60)  # more than a page
        ],
    )
    many = Table(
        "mange",
        "Mange tall",
        [Column(f"Tall {i}", "int") for i in range(12)],
        rows=[[123456789 * (i + 1) for i in range(12)]],
    )
    empty = Table("tom", "Tom tabell", [Column("Løsning")], rows=[])
    labels = [f"{m:02d}.2025" for m in range(1, 13)] + [f"{m:02d}.2026" for m in range(1, 13)]
    trend = Trend(
        "Mål for æøå", labels, [i / 24 for i in range(24)], 0.8, datetime.date(2026, 12, 31)
    )
    return Report(
        kind=reports.NATIONAL,
        title="Nasjonal statusrapport",
        place=reports.coverage.ScopeRef("nation", 0, "nation", "Hele landet"),
        since=datetime.date(2020, 1, 1),
        generated_at=datetime.datetime(2026, 12, 3, 10, 5, tzinfo=datetime.UTC),
        generated_for="Åse Ødegård",
        tables=[forecast, areas, many, empty],
        trends=[trend],
    )


def test_every_text_of_the_pdf_lies_within_its_page():
    report = wide_report()
    data = report_pdf.to_pdf(report)
    runs = text_runs(data)
    assert not outside(runs), outside(runs)[:5]
    texts = {r["text"] for r in runs}
    joined = "".join(r["text"] for r in runs).replace(" ", "")
    # Every heading, note, column heading and cell is printed (wrapped where it must).
    for table in report.tables:
        assert "".join(table.title.split()) in joined
        if table.note:
            assert "".join(table.note.split()) in joined
        for column in table.columns if table.rows else []:
            assert all(word in joined for word in column.label.split()), column.label
    assert "".join(gettext("Nothing to show.").split()) in joined  # the empty table
    assert "Ingenfremgangdesistetolvmånedene:ingendatokananslås." in joined  # the reason wraps
    assert {"100,0 %", "31.01.2027", "1 234 567 890"} <= {t.replace("\u00a0", " ") for t in texts}
    assert sum("Akershus" in r["text"] for r in runs) == 60  # every row
    assert "ÅseØdegård" in joined and "Målforæøå" in joined  # Norwegian letters
    # The area table is printed on turned pages, its header on each of them.
    pdf = pypdf.PdfReader(io.BytesIO(data))
    turned = [n for n, p in enumerate(pdf.pages, 1) if p.mediabox.width > p.mediabox.height]
    assert len(turned) >= 2 and float(pdf.pages[0].mediabox.width) < 600
    for n in turned:
        assert any(r["text"] == "Område" and r["page"] == n for r in runs)
    # The foot of each page: the report, and the page of the pages.
    pages = len(pdf.pages)
    assert {f"{n} / {pages}" for n in range(1, pages + 1)} <= texts


def test_a_table_too_wide_even_turned_is_printed_smaller_within_the_page():
    report = wide_report(targets=20)
    runs = text_runs(report_pdf.to_pdf(report))
    assert not outside(runs), outside(runs)[:5]
    size = report_pdf._font_size(report_pdf.PrintedTable.of(report.table("omrader")), 760)
    assert size < report_pdf.CELL_SIZE


def test_the_check_finds_a_text_beyond_the_page():
    """The check above is no mere formality: a text drawn past the right edge is caught."""
    report_pdf.register_fonts()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setFont(report_pdf.FONT, 9)
    pdf.drawString(40, 400, "Innenfor")
    pdf.drawString(520, 300, "Denne teksten går utenfor siden")
    pdf.save()
    runs = text_runs(out.getvalue())
    assert [r["text"] for r in outside(runs)] == ["Denne teksten går utenfor siden"]


def test_the_fonts_are_embedded_and_hold_norwegian_letters():
    data = report_pdf.to_pdf(wide_report(targets=1))
    pdf = pypdf.PdfReader(io.BytesIO(data))
    fonts = set()
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
            if "/DescendantFonts" in font:
                font = font["/DescendantFonts"][0].get_object()
            assert "/FontFile2" in font["/FontDescriptor"]  # TrueType, embedded
    assert fonts and all("DejaVuSans" in f or "Vera" in f for f in fonts)
    assert "Åse Ødegård" in pdf.pages[0].extract_text()


def test_column_widths_fill_the_table_and_follow_the_content():
    table = Table(
        key="t",
        title="T",
        columns=[
            Column("Område"),
            Column("Forbedring", "number"),
            Column("I bruk", "int"),
        ],
        rows=[
            ["Akershus universitetssykehus HF, med en svært lang forklaring", 6.12, 5],
            ["Helse Bergen", 53.17, 57120],
        ],
    )
    widths = report_pdf.column_widths(table)
    assert sum(widths) == pytest.approx(100, abs=0.1)
    area, improvement, used = widths
    assert area > improvement > used  # long text wraps at TEXT_CAP, yet is the widest
    # The heading's longest word ("Forbedring", 10 letters) sets the width of a column
    # of short numbers; "57 120" (6 characters, digits counted 1.5 wide) the last one:
    # needs (20 + 2), (10 + 2), (9 + 2), the 2 for the padding.
    assert improvement == pytest.approx(100 * 12 / 45, abs=0.1)
    assert used == pytest.approx(100 * 11 / 45, abs=0.1)
    # In points: each column at least its longest figure and heading word.
    printed = report_pdf.PrintedTable.of(table)
    points = printed.points(300, report_pdf.CELL_SIZE)
    assert sum(points) == pytest.approx(300)
    for width, least in zip(points, printed.least(report_pdf.CELL_SIZE), strict=True):
        assert width >= least - 0.01


def test_column_widths_of_an_empty_table_come_from_the_headings():
    table = Table(key="t", title="T", columns=[Column("Løsning"), Column("Av", "int")], rows=[])
    assert report_pdf.column_widths(table) == [pytest.approx(100 * 9 / 15, abs=0.01), 40.0]


def test_a_figure_column_that_holds_text_wraps_like_text():
    forecast = wide_report().table("resultatmal")
    assert report_pdf.column_classes(forecast) == ["", report_pdf.FIGURE, ""]
    printed = report_pdf.PrintedTable.of(forecast)
    assert printed.rows[0] == ["Kritisk informasjon: sykehjem og ØHD/KAD", "50,0 %", "31.01.2027"]
    assert printed.header[1] == ("Andel", report_pdf.FIGURE)


def test_the_chart_marks_few_shares_and_months_and_the_deadline():
    labels = [f"{m:02d}.2025" for m in range(1, 13)] + [f"{m:02d}.2026" for m in range(1, 13)]
    trend = Trend("Mål", labels, [i / 24 for i in range(24)], 0.8, datetime.date(2026, 12, 31))
    drawing = report_pdf.trend_drawing(trend, 250, 95)
    texts = [s.text for s in drawing.contents if hasattr(s, "text")]
    assert texts[:3] == ["0 %", "50 %", "100 %"]
    assert texts[3:7] == ["01.2025", "07.2025", "01.2026", "07.2026"]
    assert texts[7:] == [gettext("Deadline %(d)s") % {"d": "31.12.2026"}]


def test_without_debians_dejavu_the_font_reportlab_ships_is_used(monkeypatch):
    missing = report_pdf.Path("/nonexistent/DejaVuSans.ttf")
    monkeypatch.setattr(report_pdf, "FONT_FILES", [(missing, missing)])
    regular, bold = report_pdf._font_files()
    assert (regular.name, bold.name) == ("Vera.ttf", "VeraBd.ttf")
    assert regular.exists() and bold.exists()
    ttf = report_pdf.TTFont("VeraCheck", str(regular))
    assert all(ord(c) in ttf.face.charToGlyph for c in "æøåÆØÅ–·")
