"""Identifiers as people write them (issue 16): organisation numbers with spaces, dots,
dashes, an `NO` prefix and an `MVA` suffix (as the VAT register writes them) or a leading
apostrophe (Excel's "keep as text"), normalised with python-stdnum; what a spreadsheet
did to a number (scientific notation, a decimal part) refused with the hint to format the
column as text. One place for these rules; imports and forms read numbers through it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum.no import orgnr as stdnum_orgnr

# 9.10000E+08, 9,1E+08, 9.1e8: a number Excel has shown in scientific notation.
SCIENTIFIC = re.compile(r"^\d+([.,]\d+)?[eE][+-]?\d+$")
# 988077917.0, 4601,0: a number a spreadsheet has stored as a decimal.
DECIMAL = re.compile(r"^(\d+)[.,]0+$")


def _text_hint() -> str:
    return _(
        "format the column as text in the spreadsheet and type the number again (or start "
        "it with an apostrophe: '0301)"
    )


@dataclass
class Parsed:
    value: str = ""  # the normalised value, or empty when refused
    error: str = ""
    changed: bool = False  # written differently from the normalised value


def spreadsheet_damage(raw: str) -> str:
    """The hint for a number a spreadsheet has changed, or ''."""
    text = raw.strip().lstrip("'").replace(" ", "")
    if SCIENTIFIC.match(text):
        return _(
            "“%(v)s” is in scientific notation: the spreadsheet has rounded the number. "
            "To fix it, %(hint)s."
        ) % {"v": raw.strip(), "hint": _text_hint()}
    if DECIMAL.match(text):
        return _(
            "“%(v)s” has a decimal part: the spreadsheet stored it as a number. To fix it, "
            "%(hint)s."
        ) % {"v": raw.strip(), "hint": _text_hint()}
    return ""


def strip_text_marker(raw: str) -> str:
    """Without surrounding space and Excel's leading apostrophe."""
    return raw.strip().removeprefix("'").strip()


def parse_orgnr(raw: str) -> Parsed:
    """An organisation number as any register or spreadsheet writes it."""
    text = strip_text_marker(raw)
    if len(text) == 9 and text.isdigit() and text == raw:  # as the register writes it
        if stdnum_orgnr.checksum(text) == 0:
            return Parsed(text)
        return Parsed(error=_("“%(v)s” has a wrong check digit (mistyped?).") % {"v": raw.strip()})
    if not text:
        return Parsed(error=_("Organisation number is missing."))
    damage = spreadsheet_damage(text)
    if damage:
        return Parsed(error=damage)
    compact = re.sub(r"[\s.\-]", "", text).upper()
    compact = compact.removeprefix("NO").removesuffix("MVA")
    compact = stdnum_orgnr.compact(compact)
    if not (compact.isdigit() and len(compact) == 9):
        return Parsed(
            error=_(
                "“%(v)s” is not an organisation number: it must have nine digits (spaces, "
                "NO before and MVA after are allowed)."
            )
            % {"v": raw.strip()}
        )
    if not stdnum_orgnr.is_valid(compact):
        return Parsed(error=_("“%(v)s” has a wrong check digit (mistyped?).") % {"v": raw.strip()})
    return Parsed(compact, changed=compact != raw.strip())
