"""Formatting of report cells and trend charts, shared by the preview and the PDF."""

import datetime

from django import template

from ..charts import trend_svg

register = template.Library()


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


@register.filter
def cell(value, kind: str = "text") -> str:
    """A report cell as Norwegian text: 1 234, 81,7 %, 8,25, 31.12.2026; – when empty.
    The benefit pages format their figures with it too, so page and PDF read alike."""
    if value is None or value == "":
        return "–"
    if kind == "int":
        return _thousands(int(value))
    if kind == "percent":
        return f"{float(value) * 100:.1f} %".replace(".", ",")
    if kind == "number":
        return f"{float(value):.2f}".replace(".", ",")
    if kind == "date" and isinstance(value, datetime.date):
        return value.strftime("%d.%m.%Y")
    return str(value)


@register.simple_tag
def trend_chart(trend):
    return trend_svg(trend)
