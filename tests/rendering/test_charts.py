"""The server-drawn charts: values to bars and points, the value axis, labels, and the edge
cases (nothing, one point, huge numbers, values that are not numbers)."""

from __future__ import annotations

import math
import re

import pytest

from app.rendering import charts
from app.rendering.charts import Series


def _numbers(svg: str, shape: str, attribute: str) -> list[float]:
    return [float(v) for v in re.findall(rf'<{shape}[^>]* {attribute}="([-0-9.]+)"', svg)]


def test_bars_are_as_tall_as_their_values_against_a_round_top() -> None:
    svg = str(charts.bars(["a", "b", "c"], [10, 20, 5]))
    heights = _numbers(svg, "rect", "height")
    full = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert heights == pytest.approx([full / 2, full, full / 4])
    assert ">20</text>" in svg
    assert ">10</text>" in svg
    assert ">0</text>" in svg
    xs = _numbers(svg, "rect", "x")
    assert xs == sorted(xs)
    assert len(set(xs)) == 3
    ys = _numbers(svg, "rect", "y")
    assert all(y + h == pytest.approx(charts.TOP + full) for y, h in zip(ys, heights, strict=True))


def test_a_chart_is_for_the_eye_only_and_without_inline_style() -> None:
    svg = str(charts.bars(["a"], [1]))
    assert svg.startswith('<svg class="chart"')
    assert 'aria-hidden="true"' in svg
    assert 'focusable="false"' in svg
    assert "style" not in svg
    assert "<script" not in svg


def test_nothing_is_no_chart() -> None:
    assert charts.bars([], []) == ""
    assert charts.lines([], []) == ""
    assert charts.lines([], [Series("p50", [], "p50")]) == ""


def test_all_zero_still_draws_an_axis_from_zero_to_one() -> None:
    svg = str(charts.bars(["a", "b"], [0, 0]))
    assert _numbers(svg, "rect", "height") == [0, 0]
    assert ">1</text>" in svg


def test_one_point_is_a_dot_in_the_middle() -> None:
    svg = str(charts.lines(["Mar 2"], [Series("p50", [12.5], "p50")]))
    assert "<polyline" not in svg
    (cx,) = _numbers(svg, "circle", "cx")
    assert cx == pytest.approx(charts.LEFT + (charts.WIDTH - charts.LEFT - charts.RIGHT) / 2)
    assert ">Mar 2</text>" in svg


def test_lines_share_one_axis_and_one_point_per_value() -> None:
    series = [Series("p50", [10, 20, 30], "p50"), Series("p99", [40, 80, 100], "p99")]
    svg = str(charts.lines(["a", "b", "c"], series))
    assert svg.count("<polyline") == 2
    assert 'class="chart-line chart-line--p99"' in svg
    assert len(_numbers(svg, "circle", "cy")) == 6
    top_dot = min(_numbers(svg, "circle", "cy"))
    assert top_dot == pytest.approx(charts.TOP)  # 100 is the axis's top
    assert ">100</text>" in svg


def test_many_points_are_drawn_as_a_line_alone_and_few_labels() -> None:
    labels = [f"h{n}" for n in range(200)]
    svg = str(charts.lines(labels, [Series("p50", list(range(200)), "p50")]))
    assert "<circle" not in svg
    assert len(re.findall(r">h\d+</text>", svg)) == charts.MAX_X_LABELS
    assert ">h0</text>" in svg
    assert ">h199</text>" in svg


def test_huge_numbers_are_written_short() -> None:
    svg = str(charts.bars(["a", "b"], [3_400_000_000, 12]))
    assert ">4G</text>" in svg
    assert ">1G</text>" in svg
    assert charts.compact(1234) == "1.23k"
    assert charts.compact(2.5e12) == "2.5T"
    assert charts.compact(0.125) == "0.12"
    assert charts.top_of(10**30) == 10.0**30
    assert charts.top_of(0.03) == pytest.approx(0.05)


def test_values_that_are_not_numbers_are_drawn_as_zero() -> None:
    svg = str(charts.bars(["a", "b", "c", "d"], [math.nan, math.inf, -5, 4]))
    heights = _numbers(svg, "rect", "height")
    assert heights[:3] == [0, 0, 0]
    assert heights[3] > 0
    assert "nan" not in svg
    assert "inf" not in svg


def test_labels_and_classes_are_escaped() -> None:
    svg = str(charts.bars(['<script>alert("x")</script>'], [1], kind='"><x'))
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert '"><x' not in svg


def test_a_line_breaks_where_there_is_nothing_to_draw() -> None:
    svg = str(charts.lines(list("abcde"), [Series("p50", [5, 6, None, None, 9], "p50")]))
    assert svg.count("<polyline") == 1  # a, b joined; e alone, a dot
    assert len(_numbers(svg, "circle", "cx")) == 3
    assert charts.lines(["a"], [Series("p50", [None], "p50")]).count("<circle") == 0


def _axis(svg: str) -> list[str]:
    """The value axis's marks, from the bottom up (written left of the plot)."""
    at = charts.LEFT - 6
    return re.findall(
        rf'<text class="chart-axis" x="{at}" y="[^"]*" text-anchor="end">([^<]*)<', svg
    )


@pytest.mark.parametrize(
    ("highest", "marks"),
    [
        (0, ["0", "1"]),
        (1, ["0", "1"]),
        (2, ["0", "1", "2"]),
        (3, ["0", "1", "2", "3"]),
        (5, ["0", "1", "2", "3", "4", "5"]),
        (7, ["0", "2", "4", "6", "8"]),
        (25, ["0", "5", "10", "15", "20", "25"]),
        (26, ["0", "10", "20", "30"]),
        (1234, ["0", "500", "1k", "1.5k"]),
    ],
)
def test_a_count_is_marked_at_whole_numbers_only(highest: int, marks: list[str]) -> None:
    """No axis of counts says 2.5 or 0.5 searches: a small count gets every number."""
    svg = str(charts.bars(["a", "b"], [highest, 0]))
    assert _axis(svg) == marks
    heights = _numbers(svg, "rect", "height")
    full = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert heights[0] == pytest.approx(full * highest / float(marks[-1].replace("k", "e3")))
    for highest_count in range(0, 2000, 7):
        for mark in charts.whole_ticks(highest_count):
            assert mark == int(mark)
        assert charts.whole_ticks(highest_count)[-1] >= highest_count
        assert len(charts.whole_ticks(highest_count)) <= charts.MAX_STEPS + 1
