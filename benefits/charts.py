"""Chart specifications (the JSON static/js/charts.js draws) shared by the benefits pages."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

COLOUR_COVERED, COLOUR_MISSING, COLOUR_BEYOND = "#12639e", "#f0a04b", "#1b8a5a"
COLOUR_REST = "#e6ebf1"


def chart_height(bars: int) -> str:
    """A CSS class giving every bar of a horizontal chart room for its label."""
    if bars <= 3:
        return "tiny"
    return "" if bars <= 12 else "tall" if bars <= 20 else "xl"


def share_bars(rows, threshold: float, *, achieved: bool = False) -> dict:
    """A share per row (`name`, `share`), in the order given, as a stacked bar from 0 to
    100 %: up to the threshold, what is missing to reach it, what lies beyond it and the
    rest – so the threshold is always where blue ends. `achieved` words it for targets
    ("achieved") instead of agreements ("covered")."""
    t = round(float(threshold) * 100, 1)
    shares = [round(r.share * 100, 1) for r in rows]
    if achieved:
        texts = (
            _("Achieved, up to %(t)s %%"),
            _("Missing to reach %(t)s %%"),
            _("Achieved beyond %(t)s %%"),
            _("Not achieved, beyond %(t)s %%"),
        )
    else:
        texts = (
            _("Covered, up to %(t)s %%"),
            _("Missing to reach %(t)s %%"),
            _("Covered beyond %(t)s %%"),
            _("Not covered, beyond %(t)s %%"),
        )
    label = [text % {"t": f"{t:g}"} for text in texts]
    return {
        "type": "bar",
        "horizontal": True,
        "stacked": True,
        "labels": [r.name for r in rows],
        "datasets": [
            {"label": label[0], "data": [min(s, t) for s in shares], "color": COLOUR_COVERED},
            {
                "label": label[1],
                "data": [round(max(0.0, t - s), 1) for s in shares],
                "color": COLOUR_MISSING,
            },
            {
                "label": label[2],
                "data": [round(max(0.0, s - t), 1) for s in shares],
                "color": COLOUR_BEYOND,
            },
            {
                # Fills every bar to 100 %, so the axis is the same whatever the figures.
                "label": label[3],
                "data": [round(100 - max(s, t), 1) for s in shares],
                "color": COLOUR_REST,
            },
        ],
    }


def trend_svg(
    trend,
    width: int = 640,
    height: int = 200,
    *,
    ticks: tuple = (0, 0.2, 0.4, 0.6, 0.8, 1.0),
    months: int = 8,
) -> str:
    """A target's trend as an inline SVG for the report preview (no script; the PDF draws
    the same with ReportLab, benefits/report_pdf.py): the share per month, the threshold
    dashed, the deadline marked when it falls inside the period. Presentation attributes
    only (the CSP allows no inline styles); every text is escaped. `ticks` are the shares
    marked on the axis and about `months` months are labelled."""
    left, right, top, bottom = 36, 10, 10, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(trend.values), 2)
    muted, text = "#5b6776", 'font-size="10"'

    def x(i: float) -> str:
        return f"{left + plot_w * i / (n - 1):.1f}"

    def y(share: float) -> str:
        return f"{top + plot_h * (1 - max(0.0, min(1.0, share))):.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(trend.title)}">'
    ]
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick)}" y2="{y(tick)}" '
            f'stroke="#e3e8ee"/><text x="{left - 4}" y="{float(y(tick)) + 3:.1f}" {text} '
            f'text-anchor="end" fill="{muted}">{round(tick * 100)} %</text>'
        )
    step = max(1, len(trend.labels) // months)
    for i in range(0, len(trend.labels), step):
        parts.append(
            f'<text x="{x(i)}" y="{height - 6}" {text} text-anchor="middle" fill="{muted}">'
            f"{escape(trend.labels[i])}</text>"
        )
    deadline = trend.deadline.strftime("%m.%Y")
    if deadline in trend.labels:
        i = trend.labels.index(deadline)
        label = _("Deadline %(d)s") % {"d": trend.deadline.strftime("%d.%m.%Y")}
        parts.append(
            f'<line x1="{x(i)}" x2="{x(i)}" y1="{top}" y2="{top + plot_h}" stroke="#b3261e" '
            f'stroke-dasharray="4 3"/><text x="{float(x(i)) - 3:.1f}" y="{top + 10}" {text} '
            f'text-anchor="end" fill="#b3261e">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{y(trend.threshold)}" '
        f'y2="{y(trend.threshold)}" stroke="#7a4a00" stroke-dasharray="6 4"/>'
    )
    points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(trend.values) if v is not None)
    if points:
        parts.append(f'<polyline points="{points}" fill="none" stroke="#12639e" stroke-width="2"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # numbers and escaped texts only
