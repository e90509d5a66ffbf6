"""Charts drawn on the server as SVG: bars for counts over time, lines for several series
(latency percentiles). No script and no inline style (the console's CSP forbids both): the
shapes carry classes that static/console.css colours, and geometry in attributes.

A chart is a picture for the eye only (`aria-hidden`); the page puts the same figures in a
table beside it for a screen reader. Values that are not finite or are below zero are drawn
as zero; an empty chart is no markup at all (the page says there is nothing instead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
LEFT = 52  # room for the value labels
RIGHT = 12
TOP = 12
BOTTOM = 28  # room for the time labels
MAX_X_LABELS = 8  # a week by day shows every day
MAX_DOTS = 60  # past this, a line's points are not marked one by one
BAR_SHARE = 0.8  # of each slot, the bar; the rest is the gap
MAX_STEPS = 5  # of a count's axis, between its lines


@dataclass(frozen=True)
class Series:
    """One line: its name (for the legend and the table) and a class suffix for its colour."""

    name: str
    values: Sequence[float | None]  # None: nothing to draw there (a gap in the line)
    kind: str


def clean(value: float) -> float:
    """A value as drawn: a number not below zero (NaN and infinities are nothing)."""
    return value if isinstance(value, int | float) and math.isfinite(value) and value > 0 else 0.0


def top_of(highest: float) -> float:
    """The top of the value axis: the least of 1, 2, 2.5 or 5 times a power of ten at or
    above `highest` (1 when there is nothing)."""
    if highest <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(highest))
    for step in (1, 2, 2.5, 5, 10):
        if highest <= step * power:
            return float(step * power)
    return float(10 * power)  # not reached


def whole_ticks(highest: float) -> list[float]:
    """The value axis of a chart of counts: whole numbers only, from 0 in steps of 1, 2 or 5
    times a power of ten, at most `MAX_STEPS` of them, the last at or above `highest`; small
    counts get every number (0, 1, 2, 3)."""
    highest = max(highest, 1.0)
    power = 1.0
    while True:
        for step in (power, 2 * power, 5 * power):
            if math.ceil(highest / step) <= MAX_STEPS:
                return [n * step for n in range(math.ceil(highest / step) + 1)]
        power *= 10


def compact(value: float) -> str:
    """A value for an axis: 950, 1.2k, 3.4M, 7.5G; fractions to two places."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bars(labels: Sequence[str], values: Sequence[float], kind: str = "count") -> Markup:
    """One bar per label, from zero up to its value: counts, so the value axis is marked at
    whole numbers only."""
    if not values:
        return Markup("")
    drawn = [clean(v) for v in values]
    marks = whole_ticks(max(drawn))
    top = marks[-1]
    slot = _plot_width() / len(drawn)
    width = slot * BAR_SHARE
    shapes = []
    for n, value in enumerate(drawn):
        height = value / top * _plot_height()
        x = LEFT + n * slot + (slot - width) / 2
        shapes.append(
            f'<rect class="chart-bar chart-bar--{escape(kind)}" x="{x:.2f}" '
            f'y="{TOP + _plot_height() - height:.2f}" width="{width:.2f}" height="{height:.2f}"/>'
        )
    xs = [LEFT + (n + 0.5) * slot for n in range(len(drawn))]
    return _svg(marks, labels, xs, "".join(shapes))


def lines(labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """One line per series over the same labels, broken where a value is None; a point
    alone is drawn as a dot."""
    count = max((len(s.values) for s in series), default=0)
    if not count:
        return Markup("")
    top = top_of(max((clean(v) for s in series for v in s.values if v is not None), default=0))
    xs = _spread(count)
    shapes = []
    for each in series:
        kind = escape(each.kind)
        dots = count <= MAX_DOTS
        for run in _runs(each.values):
            points = [(xs[n], TOP + _plot_height() * (1 - clean(v) / top)) for n, v in run]
            if len(points) > 1:
                path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
                shapes.append(f'<polyline class="chart-line chart-line--{kind}" points="{path}"/>')
            shapes += [
                f'<circle class="chart-dot chart-dot--{kind}" cx="{x:.2f}" cy="{y:.2f}" r="3"/>'
                for x, y in points
                if dots or len(points) == 1
            ]
    return _svg([0.0, top / 2, top], labels, xs, "".join(shapes))


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of values without a None between them, each value with its index."""
    runs: list[list[tuple[int, float]]] = [[]]
    for n, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((n, value))
    return [run for run in runs if run]


def _plot_width() -> float:
    return float(WIDTH - LEFT - RIGHT)


def _plot_height() -> float:
    return float(HEIGHT - TOP - BOTTOM)


def _spread(count: int) -> list[float]:
    """Where `count` points stand across the plot: a lone one in the middle."""
    if count == 1:
        return [LEFT + _plot_width() / 2]
    step = _plot_width() / (count - 1)
    return [LEFT + n * step for n in range(count)]


def _shown(count: int) -> list[int]:
    """Which labels are written under the axis: at most `MAX_X_LABELS`, first and last."""
    if count <= MAX_X_LABELS:
        return list(range(count))
    step = (count - 1) / (MAX_X_LABELS - 1)
    return sorted({round(n * step) for n in range(MAX_X_LABELS)})


def _svg(marks: Sequence[float], labels: Sequence[str], xs: Sequence[float], shapes: str) -> Markup:
    """`marks`: the values the value axis marks, from 0 up to its top."""
    grid = []
    for mark in marks:
        y = TOP + _plot_height() * (1 - mark / marks[-1])
        grid.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.2f}" y2="{y:.2f}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y + 4:.2f}" text-anchor="end">'
            f"{compact(mark)}</text>"
        )
    shown = _shown(min(len(xs), len(labels)))
    ticks = [
        # Labels between the first and the last are "inner": a narrow screen may leave them out.
        f'<text class="chart-axis{"" if n in (shown[0], shown[-1]) else " chart-axis--inner"}" '
        f'x="{xs[n]:.2f}" y="{HEIGHT - 8}" text-anchor="{_anchor(n, xs)}">'
        f"{escape(labels[n])}</text>"
        for n in shown
    ]
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" aria-hidden="true" '
        f'focusable="false" preserveAspectRatio="xMidYMid meet">'
        f"{''.join(grid)}{shapes}{''.join(ticks)}</svg>"
    )
    return Markup(svg)  # noqa: S704 - numbers formatted here; every label and class escaped


def _anchor(n: int, xs: Sequence[float]) -> str:
    """The first and last labels lean inwards so that they stay inside the picture."""
    if len(xs) > 1 and n == 0:
        return "start"
    if len(xs) > 1 and n == len(xs) - 1:
        return "end"
    return "middle"
