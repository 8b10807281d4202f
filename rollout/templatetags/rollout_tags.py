"""Status badges and stacked bars. Bars are SVG (widths as attributes), so the strict
Content-Security-Policy needs no inline styles."""

from django import template
from django.utils.html import format_html, format_html_join

from rollout.choices import STATUS_COLOURS, STATUS_ORDER, Status

register = template.Library()


@register.simple_tag
def status_badge(status, title=""):
    return format_html(
        '<span class="st st-{}" title="{}">{}</span>', status, title, Status(status).label
    )


def _swatch(status: str, size: int = 10) -> str:
    return format_html(
        '<svg class="swatch" width="{}" height="{}" aria-hidden="true"><rect width="{}" '
        'height="{}" rx="2" fill="{}"/></svg>',
        size,
        size,
        size,
        size,
        STATUS_COLOURS[status],
    )


@register.simple_tag
def status_stack(counts: dict, total: int, height: int = 14, shown: bool = False):
    """A 100-wide stacked bar of status counts, in the fixed status order, named in full for
    screen readers; `shown`: the count of every status also written under the bar (a
    swatch and the number, the status's name on hover; screen readers have the bar's
    name), so no count needs a hover to be read."""
    if not total:
        return ""
    x, parts, present = 0.0, [], []
    for status in STATUS_ORDER:
        n = counts.get(status, 0)
        if not n:
            continue
        width = 100 * n / total
        label = f"{Status(status).label}: {n}"
        parts.append((f"{x:.3f}", f"{width:.3f}", height, STATUS_COLOURS[status], label))
        present.append((status, n, label))
        x += width
    rects = format_html_join(
        "", '<rect x="{}" y="0" width="{}" height="{}" fill="{}"><title>{}</title></rect>', parts
    )
    bar = format_html(
        '<svg class="stackbar" viewBox="0 0 100 {}" preserveAspectRatio="none" width="100%" '
        'height="{}" role="img" aria-label="{}">{}</svg>',
        height,
        height,
        ", ".join(label for _s, _n, label in present),
        rects,
    )
    if not shown:
        return bar
    numbers = format_html_join(
        "",
        '<span title="{}">{}{}</span>',
        ((label, _swatch(s), n) for s, n, label in present),
    )
    return format_html('{}<span class="stack-counts" aria-hidden="true">{}</span>', bar, numbers)


@register.filter
def percent(value, digits=0):
    try:
        return f"{float(value) * 100:.{int(digits)}f} %".replace(".", ",")
    except (TypeError, ValueError):
        return "–"


@register.filter
def points(value, digits=1):
    """A share difference as percentage points (0.0123 → "1,2"); the unit is in the label."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}".replace(".", ",")
    except (TypeError, ValueError):
        return "–"


@register.simple_tag
def status_legend():
    items = format_html_join(
        "",
        "<span>{}{}</span>",
        ((_swatch(s), Status(s).label) for s in STATUS_ORDER),
    )
    return format_html('<div class="legend">{}</div>', items)
