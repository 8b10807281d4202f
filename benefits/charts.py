"""Chart specifications (the JSON static/js/charts.js draws) shared by the benefits pages."""

from __future__ import annotations

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
