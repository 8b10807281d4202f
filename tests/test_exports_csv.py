"""The one CSV writer behind every export (actors.exports): `;`-separated, decimal comma,
text quoted, and nothing a spreadsheet could run as a formula, whatever it splits on."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from actors import exports
from benefits.models import IntentAgreement
from tests.conftest import api_client_for

ATTACK = "x;=cmd|' /C calc'!A0"


def read(body: bytes, delimiter: str = ";") -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def naive_cells(body: bytes) -> list[str]:
    """Every piece a reader could make of the file by splitting on any delimiter or line
    break while ignoring quotes."""
    text = body.decode("utf-8-sig")
    for separator in ",\t|\r":
        text = text.replace(separator, ";")
    return [cell.strip('"').lstrip(" ") for cell in text.replace("\n", ";").split(";")]


def test_the_semicolon_formula_stays_in_one_quoted_text_cell():
    body = exports.csv_bytes(["Tittel", "Antall"], [[ATTACK, 3]])
    assert body.decode("utf-8-sig") == '"Tittel";"Antall"\r\n"x;\'=cmd|\' /C calc\'!A0";3\r\n'
    assert read(body)[1] == ["x;'=cmd|' /C calc'!A0", "3"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_with_a_formula_character_is_neutralised(start):
    value = f"{start}1+1"
    assert read(exports.csv_bytes(["a"], [[value]]))[1] == [f"'{value}"]


@pytest.mark.parametrize(
    "value",
    [
        ATTACK,
        "a,=1+1",
        "a|@SUM(A1)",
        "a\t-2+3+cmd|' /C calc'!A0",
        "a; +1",
        'første linje\n=HYPERLINK("http://x")',
        '"; =1+1; "',
        " =1+1",
    ],
)
def test_no_piece_is_a_formula_whatever_the_reader_splits_on(value):
    body = exports.csv_bytes(["Tittel"], [[value]])
    assert read(body)[1] == [exports.safe_cell(value)]  # the text survives a proper reader
    for cell in naive_cells(body):
        assert not cell.startswith(exports.FORMULA_START), (value, cell)


def test_harmless_text_is_kept_as_it_is():
    for value in ["Helse Sør-Øst", "kr 100,-", "2024-2025", "a - b", "e-post: x@y.no", ""]:
        assert exports.safe_cell(value) == value


def test_numbers_dates_and_empty_cells():
    body = exports.csv_bytes(
        ["a", "b", "c", "d", "e", "f", "g"],
        [
            [
                12,
                Decimal("12.50"),
                0.8174,
                -3.5,
                datetime.date(2026, 5, 4),
                None,
                Decimal("1E+2"),
            ]
        ],
    )
    line = body.decode("utf-8-sig").splitlines()[1]
    assert line == "12;12,50;0,8174;-3,5;2026-05-04;;100"  # numbers and dates unquoted


def test_quotes_inside_text_are_doubled():
    body = exports.csv_bytes(["a"], [['Sa "hei"; ok']])
    assert body.decode("utf-8-sig").splitlines()[1] == '"Sa ""hei""; ok"'
    assert read(body)[1] == ['Sa "hei"; ok']


@pytest.mark.django_db
def test_exported_agreement_with_the_semicolon_title(make_user):
    IntentAgreement.objects.create(title=ATTACK)
    response = api_client_for(make_user("coord_nat")).get(
        reverse("intentagreement-export"), {"format": "csv"}
    )
    rows = read(response.content)
    assert rows[1][0] == "x;'=cmd|' /C calc'!A0"
    assert (
        response.content.decode("utf-8-sig")
        .splitlines()[1]
        .startswith("\"x;'=cmd|' /C calc'!A0\";")
    )
