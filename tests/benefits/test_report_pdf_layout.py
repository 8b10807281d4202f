"""The PDF's lean layout: column widths for WeasyPrint's fixed table layout and trend
charts with few texts (each text of a drawing is laid out on its own)."""

import datetime

import pytest

from benefits import report_files
from benefits.charts import trend_svg
from benefits.reports import Column, Table, Trend


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
    widths = report_files.column_widths(table)
    assert sum(widths) == pytest.approx(100, abs=0.1)
    area, improvement, used = widths
    assert area > improvement > used  # long text wraps at TEXT_CAP, yet is the widest
    # The heading's longest word ("Forbedring", 10 letters) sets the width of a column
    # of short numbers; "57 120" (6 characters, digits counted 1.5 wide) the last one:
    # needs (20 + 2), (10 + 2), (9 + 2), the 2 for the padding.
    assert improvement == pytest.approx(100 * 12 / 45, abs=0.1)
    assert used == pytest.approx(100 * 11 / 45, abs=0.1)


def test_column_widths_of_an_empty_table_come_from_the_headings():
    table = Table(key="t", title="T", columns=[Column("Løsning"), Column("Av", "int")], rows=[])
    assert report_files.column_widths(table) == [pytest.approx(100 * 9 / 15, abs=0.01), 40.0]


def test_the_pdf_chart_has_fewer_texts_than_the_preview_chart():
    labels = [f"{m:02d}.2025" for m in range(1, 13)] + [f"{m:02d}.2026" for m in range(1, 13)]
    trend = Trend("Mål", labels, [i / 24 for i in range(24)], 0.8, datetime.date(2026, 12, 31))
    preview = trend_svg(trend)
    pdf = trend_svg(trend, 400, 150, ticks=(0, 0.5, 1.0), months=4)
    assert preview.count("<text") == 6 + 8 + 1  # ticks, months, the deadline
    assert pdf.count("<text") == 3 + 4 + 1
    assert ">50 %</text>" in pdf and ">20 %</text>" not in pdf
    assert ">01.2025</text>" in pdf and ">07.2025</text>" in pdf
