"""Server-side SVG charts: standalone, accessible, no script, readable when printed.

Every drawn data mark carries ``class="mark"`` and ``data-value`` so that tests (and
screen readers, through the ``<title>`` of each mark) can read the data back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ["PALETTE", "bar_chart", "line_chart", "nice_ticks"]

#: Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")
_FONT = 'font-family="system-ui, sans-serif"'


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:,.4g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low``..``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
        if ticks[-1] >= high:
            break
    return ticks


def _frame(title: str, unit: str, width: int, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" style="max-width:{width}px" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>"
            f'<text x="8" y="20" {_FONT} font-size="15" font-weight="600">{escape(title)}</text>'
            f'<text x="8" y="38" {_FONT} font-size="12" fill="#5b6475">{escape(unit)}</text>'
            f"{body}</svg>")


def _empty(title: str, unit: str, width: int, height: int) -> str:
    return _frame(title, unit, width, height,
                  f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" {_FONT} '
                  f'font-size="14" fill="#5b6475">no data</text>')


def line_chart(title: str, unit: str, x_labels: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None]]], *, width: int = 560,
               height: int = 300) -> str:
    """Lines over shared x labels; ``None`` leaves a gap."""
    values = [v for _, points in series for v in points if v is not None]
    if not x_labels or not values:
        return _empty(title, unit, width, height)
    left, right, top, bottom = 70, 16, 56, 46 + (18 if len(series) > 1 else 0)
    ticks = nice_ticks(min(0.0, min(values)) if min(values) >= 0 and max(values) > 0
                       and min(values) < max(values) * 0.5 else min(values), max(values))
    low, high = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(x_labels)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    parts = []
    for t in ticks:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                     f'stroke="#e4e8ef"/><text x="{left - 6}" y="{y(t) + 4:.1f}" '
                     f'text-anchor="end" {_FONT} font-size="11">{_fmt(t)}</text>')
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                         f'{_FONT} font-size="11">{escape(label)}</text>')
    for s, (name, points) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        path, pen = [], "M"
        for i, v in enumerate(points):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"/>')
        for i, v in enumerate(points):
            if v is not None:
                parts.append(f'<circle class="mark" data-value="{v}" cx="{x(i):.1f}" '
                             f'cy="{y(v):.1f}" r="3.5" fill="{colour}"><title>'
                             f"{escape(name)}, {escape(x_labels[i])}: {_fmt(v)}</title></circle>")
        if len(series) > 1:
            lx = left + s * 150
            parts.append(f'<rect x="{lx}" y="{height - 16}" width="12" height="4" '
                         f'fill="{colour}"/><text x="{lx + 16}" y="{height - 11}" {_FONT} '
                         f'font-size="12">{escape(name)}</text>')
    return _frame(title, unit, width, height, "".join(parts))


def bar_chart(title: str, unit: str, bars: Sequence[tuple[str, float]], *, width: int = 560,
              bar_height: int = 22) -> str:
    """Horizontal bars in the order given, each labelled with its value."""
    if not bars:
        return _empty(title, unit, width, 120)
    top, label_w, value_w = 52, 150, 90
    height = top + len(bars) * (bar_height + 6) + 12
    peak = max(max(v for _, v in bars), 0.0) or 1.0
    plot_w = width - label_w - value_w
    parts = []
    for i, (label, value) in enumerate(bars):
        y = top + i * (bar_height + 6)
        w = max(0.0, value) / peak * plot_w
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" {_FONT} '
            f'font-size="12">{escape(short)}</text>'
            f'<rect class="mark" data-value="{value}" x="{label_w}" y="{y}" width="{w:.1f}" '
            f'height="{bar_height}" fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(value)}'
            f'</title></rect><text x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.7:.1f}" '
            f'{_FONT} font-size="12">{_fmt(value)}</text>')
    return _frame(title, unit, width, height, "".join(parts))
