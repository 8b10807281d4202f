"""The status colours stay apart for colour-blind readers, and bars say their counts without
a hover (issue 18: Ikke startet, Ikke relevant and Planlegging were hard to tell apart; the
matrix showed only the count in use)."""

from __future__ import annotations

import itertools
import math

import pytest

from rollout.choices import STATUS_COLOURS, STATUS_ORDER, Status
from rollout.templatetags.rollout_tags import status_legend, status_stack

# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear sRGB.
SIMULATIONS = {
    "normal": None,
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}
MIN_DISTANCE = 15  # CIELAB ΔE*ab; the palette before issue 18 had 6.3 (deuteranopia)


def _linear(hex_colour: str) -> list[float]:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def _seen(hex_colour: str, matrix) -> tuple[float, float, float]:
    rgb = _linear(hex_colour)
    if matrix:
        rgb = [
            min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in matrix
        ]
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


@pytest.mark.parametrize("vision", SIMULATIONS)
def test_every_pair_of_status_colours_stays_apart(vision):
    seen = {s: _seen(STATUS_COLOURS[s], SIMULATIONS[vision]) for s in STATUS_ORDER}
    close = [
        (round(math.dist(seen[a], seen[b]), 1), Status(a).label, Status(b).label)
        for a, b in itertools.combinations(STATUS_ORDER, 2)
        if math.dist(seen[a], seen[b]) < MIN_DISTANCE
    ]
    assert not close, f"too close for {vision}: {close}"


def test_the_old_palette_would_have_failed():
    """The measure tells the palettes apart: the one users complained about fails it."""
    old = {"ikke_startet": "#c9d1da", "ikke_relevant": "#e8e8e8", "stanset": "#7a4a00",
           "blokkert": "#b3261e"}  # fmt: skip
    pairs = [("ikke_startet", "ikke_relevant"), ("blokkert", "stanset")]
    worst = min(
        math.dist(_seen(old[a], m), _seen(old[b], m))
        for a, b in pairs
        for m in SIMULATIONS.values()
    )
    assert worst < MIN_DISTANCE


def test_a_bar_names_every_count_and_can_show_them_without_hover():
    counts = {Status.IN_USE: 3, Status.PLANNING: 5, Status.NOT_RELEVANT: 2}
    bar = str(status_stack(counts, 10))
    assert 'aria-label="I bruk: 3, Planlegging: 5, Ikke relevant: 2"' in bar
    assert "stack-counts" not in bar
    shown = str(status_stack(counts, 10, shown=True))
    visible = shown.split('class="stack-counts"', 1)[1]
    # each count written out, in the status order, with its colour
    assert [STATUS_COLOURS[s] in visible for s in counts] == [True, True, True]
    assert visible.index(">3<") < visible.index(">5<") < visible.index(">2<")
    assert status_stack({}, 0) == ""


def test_the_legend_draws_each_status_in_its_colour():
    legend = str(status_legend())
    for status in STATUS_ORDER:
        assert f'fill="{STATUS_COLOURS[status]}"' in legend
        assert str(Status(status).label) in legend
