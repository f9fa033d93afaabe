"""The release as HTML: a report with charts and a methods page, both self-contained.

Charts are inline SVG drawn by ``ciyuan.web.charts`` (no script, no network), so the report
opens from disk, offline, in any browser, and prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2

from ciyuan.stats.format import format_value
from ciyuan.stats.revision import Change
from ciyuan.web.charts import bar_chart, line_chart

__all__ = ["render_methods", "render_report"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("ciyuan.stats", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
_FLAGS = {"P": "provisional", "A": "final", "R": "revised"}


_ENV.filters["number"] = format_value


def _charts(release: dict[str, Any]) -> list[str]:
    series = release["series"]
    months = series["months"]
    tables = release["tables"]
    index_lines = [("Törnqvist", series["price_index_tornqvist"]),
                   ("Fisher", series["price_index_fisher"])]
    if any(v is not None for v in series.get("quality_adjusted_price_index_tornqvist", [])):
        index_lines.append(("Törnqvist, quality-adjusted",
                            series["quality_adjusted_price_index_tornqvist"]))
    charts = [
        line_chart("Chained price index (base = 100)", "index points", months, index_lines),
        line_chart("Standard tokens per month", "standard tokens (o200k_base)", months,
                   [("standard tokens", [float(v) for v in series["standard_tokens"]])]),
    ]
    for name, column in (("volume_by_model", "standard_tokens"),
                         ("volume_by_purpose", "standard_tokens"),
                         ("volume_by_sector", "standard_tokens")):
        table = tables[name]
        at = table["columns"].index(column)
        charts.append(bar_chart(f"{table['title']}, {release['month']}", "standard tokens",
                                [(str(r[0]), float(r[at])) for r in table["rows"]]))
    if "price_performance" in tables:
        table = tables["price_performance"]
        at = table["columns"].index("quality_per_usd")
        charts.append(bar_chart("Quality per dollar of the standard workload",
                                "quality index ÷ USD per million tokens",
                                [(str(r[0]), float(r[at])) for r in table["rows"]
                                 if r[at] is not None]))
    return charts


def render_report(release: dict[str, Any], changes: Sequence[Change]) -> str:
    return _ENV.get_template("report.html").render(
        release=release, charts=_charts(release), changes=list(changes), flags=_FLAGS)


def render_methods(release: dict[str, Any]) -> str:
    return _ENV.get_template("methods.html").render(release=release, flags=_FLAGS)
