"""Enhetsregisteret's sub-units (underenheter) as Brønnøysundregistrene publish them for
download, read as a stream (issue 16).

Source: Brønnøysundregistrene, "Åpne data fra Enhetsregisteret – API-dokumentasjon",
https://data.brreg.no/enhetsregisteret/api/dokumentasjon/no/index.html, "Last ned alle
underenheter": a JSON array (gzip-compressed, `/enhetsregisteret/api/underenheter/lastned`)
and a CSV file (`/enhetsregisteret/api/underenheter/lastned/csv`), both with the field
names of the API's Underenhet. Nested fields are objects in the JSON
(`"naeringskode1": {"kode": "86.211", "beskrivelse": "Allmenn legetjeneste"}`) and
dotted column names in the CSV (`naeringskode1.kode`). The fields read here:

    organisasjonsnummer                the sub-unit's own number
    navn                               its name
    naeringskode1.kode                 industry code (SN2007), which says its type
    beliggenhetsadresse.kommunenummer  where it is (the municipality)
    overordnetEnhet                    the legal entity it belongs to (kept for reference)
    nedleggelsesdato                   set when the unit has been closed down
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .tabular import ImportFileError, TableReader, decode

ORGNR = "organisasjonsnummer"
NAME = "navn"
INDUSTRY = "naeringskode1.kode"
MUNICIPALITY = "beliggenhetsadresse.kommunenummer"
PARENT = "overordnetenhet"
CLOSED = "nedleggelsesdato"
CSV_REQUIRED = (ORGNR, NAME, INDUSTRY, MUNICIPALITY)
CSV_OPTIONAL = (PARENT, CLOSED)
CHUNK = 1 << 16
MAX_RECORD = 1 << 20  # no unit's record comes near 1 MB: beyond that it is broken


@dataclass
class Unit:
    line: int  # the CSV line, or the record's position in the JSON array
    orgnr: str
    name: str
    industry_code: str
    municipality: str
    closed: str  # as written (YYYY-MM-DD), or empty


def is_gzip(raw: bytes) -> bool:
    return raw[:2] == b"\x1f\x8b"


def looks_like_json(raw: bytes) -> bool:
    return is_gzip(raw) or raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["


def is_register_csv(header_line: str) -> bool:
    return INDUSTRY in header_line.casefold()


def units(raw: bytes) -> tuple[Iterator[Unit], str]:
    """The units of a JSON (gzip or not) or CSV download, and the format's name."""
    if looks_like_json(raw):
        return _json_units(raw), "Enhetsregisteret JSON" + (" (gzip)" if is_gzip(raw) else "")
    text, encoding = decode(raw)
    return _csv_units(text), f"Enhetsregisteret CSV ({encoding})"


def _csv_units(text: str) -> Iterator[Unit]:
    for line, row in TableReader(text, CSV_REQUIRED, CSV_OPTIONAL):
        yield Unit(
            line,
            row[ORGNR],
            row[NAME],
            row[INDUSTRY],
            row[MUNICIPALITY],
            row.get(CLOSED, ""),
        )


def _json_units(raw: bytes) -> Iterator[Unit]:
    binary = gzip.GzipFile(fileobj=io.BytesIO(raw)) if is_gzip(raw) else io.BytesIO(raw)
    try:
        with io.TextIOWrapper(binary, encoding="utf-8-sig") as stream:
            yield from _json_records(stream)
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # a broken gzip stream or text
        raise ImportFileError(
            _("The JSON file cannot be read (%(e)s). Download it again.") % {"e": exc}
        ) from exc


def _json_records(stream) -> Iterator[Unit]:
    for number, record in enumerate(_json_array(stream), start=1):
        if not isinstance(record, dict):
            raise ImportFileError(
                _("Record %(n)s of the JSON file is not an object.") % {"n": number}
            )
        industry = record.get("naeringskode1") or {}
        place = record.get("beliggenhetsadresse") or {}
        yield Unit(
            number,
            str(record.get("organisasjonsnummer") or ""),
            str(record.get("navn") or ""),
            str(industry.get("kode") or "") if isinstance(industry, dict) else "",
            str(place.get("kommunenummer") or "") if isinstance(place, dict) else "",
            str(record.get("nedleggelsesdato") or ""),
        )


def _json_array(stream) -> Iterator:
    """The elements of a top-level JSON array, one at a time (a 40 MB download is never
    held as one object)."""
    decoder = json.JSONDecoder()
    buffer, pos, count = stream.read(CHUNK), 0, 0

    def more() -> bool:
        nonlocal buffer, pos
        chunk = stream.read(CHUNK)
        buffer, pos = buffer[pos:] + chunk, 0
        return bool(chunk)

    def skip(chars: str) -> None:
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in chars:
                pos += 1
            if pos < len(buffer) or not more():
                return

    skip(" \t\r\n")
    if buffer[pos : pos + 1] != "[":
        raise ImportFileError(_("The JSON file is not a list of units (it must start with [)."))
    pos += 1
    while True:
        skip(" \t\r\n,")
        if pos >= len(buffer):
            raise ImportFileError(
                _(
                    "The JSON file ends after record %(n)s without closing its list: "
                    "download it again."
                )
                % {"n": count}
            )
        if buffer[pos] == "]":
            return
        try:
            element, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if len(buffer) - pos < MAX_RECORD and more():
                continue
            raise ImportFileError(
                _("Record %(n)s of the JSON file is broken: %(e)s.")
                % {"n": count + 1, "e": exc.msg}
            ) from exc
        count += 1
        pos = end
        yield element


def closed_on(unit: Unit) -> datetime.date | None:
    """The closing date, or None. Raises ValueError for one that cannot be read (the
    caller reports it on the unit's line)."""
    if not unit.closed.strip():
        return None
    return datetime.date.fromisoformat(unit.closed.strip()[:10])
