"""The server-side SVG charts: well-formed, one mark per data point, escaped, never a crash."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.web.charts import PALETTE, bar_chart, format_number, line_chart, nice_ticks

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{NS}svg"
    return root


def _marks(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == "mark"]


def _texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{NS}text")]


def test_line_chart_draws_a_mark_per_point_and_skips_gaps() -> None:
    root = _parse(line_chart("Chained price index", "index points", ["2026-08", "2026-09",
                                                                     "2026-10"],
                             [("Törnqvist", [100.0, 98.1, 97.8]),
                              ("Fisher", [100.0, None, 97.9])]))
    marks = _marks(root)
    assert [m.get("data-value") for m in marks] == ["100", "98.1", "97.8", "100", "97.9"]
    assert root.find(f"{NS}title") is not None
    assert root.find(f"{NS}title").text == "Chained price index"  # type: ignore[union-attr]
    texts = _texts(root)
    assert "index points" in texts and "2026-09" in texts
    assert "Törnqvist" in texts and "Fisher" in texts  # a legend: two series
    # a gap splits the second line into two pieces, each starting with a move
    second = [p.get("d", "") for p in root.iter(f"{NS}path")][1]
    assert second.count("M") == 2 and "L" not in second


def test_one_series_has_no_legend_and_round_ticks() -> None:
    root = _parse(line_chart("Tokens", "standard tokens", ["a", "b"],
                             [("tokens", [1_000_000, 4_300_000])]))
    texts = _texts(root)
    assert "tokens" not in texts
    assert {"0", "1M", "2M", "3M", "4M", "5M"} <= set(texts)


def test_bar_chart_keeps_the_order_and_formats_values() -> None:
    root = _parse(bar_chart("Volume by model", "standard tokens",
                            [("qwen-plus", 2_100_000), ("gpt-4o", 2_900_000), ("idle", 0)]))
    marks = _marks(root)
    assert [m.get("data-value") for m in marks] == ["2100000", "2900000", "0"]
    widths = [float(m.get("width", "")) for m in marks]
    assert widths[1] > widths[0] > widths[2] == 0
    texts = _texts(root)
    assert texts.index("qwen-plus") < texts.index("gpt-4o")
    assert "2,900,000" in texts
    assert {m.get("fill") for m in marks} == {PALETTE[0]}


def test_data_is_escaped() -> None:
    evil = '<script>alert("x")</script> & "q"'
    for svg in (line_chart(evil, evil, [evil], [(evil, [1.0]), ("b", [2.0])]),
                bar_chart(evil, evil, [(evil, 1.0)])):
        root = _parse(svg)
        assert not list(root.iter("script")) and not list(root.iter(f"{NS}script"))
        assert evil in _texts(root)
        assert "<script>" not in svg


@pytest.mark.parametrize("svg", [
    line_chart("Empty", "tokens", [], []),
    line_chart("All gaps", "tokens", ["a", "b"], [("s", [None, None])]),
    bar_chart("No bars", "tokens", []),
])
def test_no_data_is_a_chart_that_says_so(svg: str) -> None:
    root = _parse(svg)
    assert not _marks(root)
    assert "no data" in _texts(root)


def test_non_finite_values_do_not_break_the_chart() -> None:
    root = _parse(line_chart("t", "u", ["a", "b"], [("s", [float("nan"), 2.0])]))
    assert len(_marks(root)) == 1
    root = _parse(bar_chart("t", "u", [("a", float("inf")), ("b", 2.0)]))
    assert len(_marks(root)) == 2 and "n/a" in _texts(root)


def test_number_formats() -> None:
    assert format_number(1234567) == "1,234,567"
    assert format_number(97.8) == "97.8"
    assert format_number(0.61) == "0.61"
    assert format_number(12345.678) == "12,345.7"
    assert format_number(float("nan")) == "n/a"


@given(st.floats(-1e12, 1e12), st.floats(-1e12, 1e12))
def test_ticks_are_round_and_cover_the_range(a: float, b: float) -> None:
    ticks = nice_ticks(a, b)
    assert 2 <= len(ticks) <= 13
    assert ticks[0] <= min(a, b) + 1e-6 * max(1.0, abs(a), abs(b))
    assert ticks[-1] >= max(a, b) - 1e-6 * max(1.0, abs(a), abs(b))
    steps = [y - x for x, y in zip(ticks, ticks[1:], strict=False)]
    # evenly spaced, up to float resolution at the ticks' magnitude and the rounding of each
    # tick to its step's decimal places (relative: a range of 2e-9 has steps of 5e-10)
    resolution = 8 * math.ulp(max(1.0, abs(a), abs(b)))
    assert all(math.isclose(s, steps[0], rel_tol=1e-6, abs_tol=resolution) for s in steps), steps


@given(st.lists(st.one_of(st.none(), st.floats(-1e9, 1e9)), min_size=1, max_size=40))
def test_any_series_gives_well_formed_svg(points: list[float | None]) -> None:
    labels = [f"h{i}" for i in range(len(points))]
    root = _parse(line_chart("t", "u", labels, [("s", points)]))
    assert len(_marks(root)) == sum(p is not None for p in points)
