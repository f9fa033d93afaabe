"""Server-side SVG charts: standalone, accessible, no script, readable when printed.

Each chart is one ``<svg>`` string with a ``<title>`` (read by screen readers), its unit
under the title, round tick values, and a legend when there is more than one series. Every
drawn data mark carries ``class="mark"`` and ``data-value`` so that tests (and a reader
hovering a point, through the mark's own ``<title>``) can read the data back. Every text
that comes from data is escaped. An empty chart says "no data" instead of failing.

The dashboard's ``static/dashboard.js`` draws the same charts in the browser; keep the two
alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

__all__ = ["PALETTE", "bar_chart", "format_number", "line_chart", "nice_ticks"]

#: Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
#: Most ticks on the y axis (a bound on the loop in nice_ticks, too).
MAX_TICKS = 12
_FONT = 'font-family="system-ui, -apple-system, \'Segoe UI\', sans-serif"'
_MUTED = "#5b6475"
_GRID = "#e4e8ef"
_TINY = 1e-12  # smaller differences draw as none
_CHAR_W = 7  # average width of a 12 px character, for laying out labels


def format_number(value: float) -> str:
    """A value as a reader sees it: thousands separators, at most four significant decimals."""
    if not math.isfinite(value):
        return "n/a"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _tick_label(value: float) -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return format_number(value)


def _data_value(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(float(value))


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10ⁿ) from at most ``low`` to at least
    ``high``, about ``count`` of them."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"ticks need finite bounds, not {low!r}..{high!r}")
    low, high = sorted(0.0 if abs(v) < _TINY else v for v in (low, high))
    if high - low < _TINY * max(1.0, abs(high)):  # equal as far as a chart can tell
        low = high
    if high == low == 0:
        high = 1.0
    elif high == low:  # one value: an axis one order of magnitude around it
        pad = 10.0 ** math.floor(math.log10(abs(low)))
        low, high = low - pad, high + pad
    raw = (high - low) / max(1, count)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    places = max(0, 1 - math.floor(math.log10(step)))
    return [round(i * step, places) for i in range(first, min(last, first + MAX_TICKS) + 1)]


def _frame(title: str, unit: str, width: int, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" style="max-width:{width}px" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>"
            f'<text x="8" y="20" {_FONT} font-size="15" font-weight="600">{escape(title)}</text>'
            f'<text x="8" y="38" {_FONT} font-size="12" fill="{_MUTED}">{escape(unit)}</text>'
            f"{body}</svg>")


def _empty(title: str, unit: str, width: int, height: int) -> str:
    return _frame(title, unit, width, height,
                  f'<text class="empty" x="{width // 2}" y="{height // 2 + 10}" '
                  f'text-anchor="middle" {_FONT} font-size="14" fill="{_MUTED}">no data</text>')


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for s, name in enumerate(names):
        colour = PALETTE[s % len(PALETTE)]
        parts.append(f'<rect x="{x:.0f}" y="{y - 6:.0f}" width="14" height="4" fill="{colour}"/>'
                     f'<text x="{x + 19:.0f}" y="{y:.0f}" {_FONT} font-size="12">'
                     f"{escape(name)}</text>")
        x += 19 + _CHAR_W * len(name) + 22
    return "".join(parts)


def _y_axis(ticks: Sequence[float], y: Callable[[float], float], left: int, right: int) -> str:
    return "".join(
        f'<line x1="{left}" x2="{right}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{_GRID}"/>'
        f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end" {_FONT} font-size="11" '
        f'fill="{_MUTED}">{_tick_label(t)}</text>' for t in ticks)


def line_chart(title: str, unit: str, x_labels: Sequence[str],
               series: Sequence[tuple[str, Sequence[float | None]]], *, width: int = 640,
               height: int = 320) -> str:
    """One line per series over shared x labels; ``None`` (or a non-finite value) leaves a
    gap. Each point is a mark."""
    clean = [(name, [v if v is not None and math.isfinite(v) else None
                     for v in list(points)[:len(x_labels)]]) for name, points in series]
    values = [v for _, points in clean for v in points if v is not None]
    if not x_labels or not values:
        return _empty(title, unit, width, height)
    low, high = min(values), max(values)
    if 0 <= low <= high * 0.5:
        low = 0.0  # near zero anyway: start the axis at zero rather than mislead
    ticks = nice_ticks(low, high)
    left, right, top = 78, 18, 54
    bottom = 40 + (24 if len(clean) > 1 else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    n, y_low, y_high = len(x_labels), ticks[0], ticks[-1]

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / n

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - y_low) / (y_high - y_low))

    parts = [_y_axis(ticks, y, left, width - right),
             f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
             f'stroke="{_MUTED}"/>']
    every = max(1, math.ceil(n * 70 / plot_w))  # a label per 70 px at most
    parts += [f'<text x="{x(i):.1f}" y="{top + plot_h + 17}" text-anchor="middle" {_FONT} '
              f'font-size="11" fill="{_MUTED}">{escape(label)}</text>'
              for i, label in enumerate(x_labels) if i % every == 0]
    for s, (name, points) in enumerate(clean):
        colour = PALETTE[s % len(PALETTE)]
        path, pen = [], "M"
        for i, v in enumerate(points):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2.5" stroke-linejoin="round"/>')
        parts += [f'<circle class="mark" data-value="{_data_value(v)}" cx="{x(i):.1f}" '
                  f'cy="{y(v):.1f}" r="4" fill="{colour}"><title>{escape(name)}, '
                  f"{escape(x_labels[i])}: {format_number(v)}</title></circle>"
                  for i, v in enumerate(points) if v is not None]
    if len(clean) > 1:
        parts.append(_legend([name for name, _ in clean], left, height - 10))
    return _frame(title, unit, width, height, "".join(parts))


def bar_chart(title: str, unit: str, bars: Sequence[tuple[str, float]], *, width: int = 640,
              bar_height: int = 22) -> str:
    """Horizontal bars in the order given, each labelled with its value (a negative or
    non-finite value draws no bar, only its label). Each bar is a mark."""
    if not bars:
        return _empty(title, unit, width, 140)
    gap, top = 6, 52
    height = top + len(bars) * (bar_height + gap) + 10
    shown = [(label if len(label) <= 26 else label[:25] + "…", value) for label, value in bars]
    label_w = min(200, 12 + _CHAR_W * max(len(label) for label, _ in shown))
    value_w = 14 + _CHAR_W * max(len(format_number(v)) for _, v in bars)
    finite = [v for _, v in bars if math.isfinite(v)]
    peak = max([*finite, 0.0]) or 1.0
    plot_w = width - label_w - value_w - 8
    parts = []
    for i, ((label, value), (short, _)) in enumerate(zip(bars, shown, strict=True)):
        top_y = top + i * (bar_height + gap)
        text_y = top_y + bar_height * 0.7
        w = max(0.0, value) / peak * plot_w if math.isfinite(value) else 0.0
        parts.append(
            f'<text x="{label_w - 6}" y="{text_y:.1f}" text-anchor="end" {_FONT} '
            f'font-size="12">{escape(short)}</text>'
            f'<rect class="mark" data-value="{_data_value(value) if math.isfinite(value) else ""}"'
            f' x="{label_w}" y="{top_y}" width="{w:.1f}" height="{bar_height}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {format_number(value)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{text_y:.1f}" {_FONT} font-size="12">'
            f"{format_number(value)}</text>")
    return _frame(title, unit, width, height, "".join(parts))
