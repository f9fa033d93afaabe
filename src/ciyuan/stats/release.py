"""The monthly release: every table, the headline, the series, the status flags.

Input is the cube (``ciyuan.stats.cube``) over the base month to the release month; output
is a plain JSON-able dict (schema ``ciyuan.release/1``) that the writers in
``ciyuan.stats.outputs`` turn into JSON, CSV, Parquet, SDMX-CSV and HTML. Money is carried as
decimal strings converted from integer nano-units, never through a float; ratios, shares and
index levels are floats (statistics, not money).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ciyuan.core.errors import CiyuanError, UnknownModelError
from ciyuan.core.money import PER_MILLION, format_amount, from_nano
from ciyuan.core.outcomes import Outcome
from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.price.api import Pricer
from ciyuan.stats.cube import CATEGORIES, Cube
from ciyuan.stats.energy import Deployment, energy_rows
from ciyuan.stats.index import fisher, tornqvist
from ciyuan.stats.partitions import month_bounds, shift_month
from ciyuan.stats.value import value_figures, value_headline, value_note, value_table

__all__ = ["BREAKDOWNS", "INDEX_CURRENCY", "ReleaseOptions", "build_release", "money"]

SCHEMA = "ciyuan.release/1"
#: Spend weights of the price index are compared in one currency (explicit FX in the book).
INDEX_CURRENCY = "USD"
#: The standard workload of price-performance: a million native tokens, this share input.
WORKLOAD_INPUT = 0.75
#: A cell's list price is read for a small call and scaled, so that a long-context tier
#: (priced by the size of one call) never decides the cell's price.
_PROBE_TOKENS = 1000

#: Volume tables: name -> (cube dimension, title).
BREAKDOWNS: dict[str, tuple[str, str]] = {
    "volume_by_model": ("model", "Volume by model"),
    "volume_by_provider": ("provider", "Volume by provider"),
    "volume_by_modality": ("modality", "Volume by modality"),
    "volume_by_sector": ("sector", "Volume by tenant sector"),
    "volume_by_purpose": ("purpose", "Volume by declared purpose"),
    "volume_by_region": ("region", "Volume by region"),
    "volume_by_origin_country": ("origin_country", "Volume by model origin country"),
}


def money(nano: int) -> str:
    """Integer nano-units as a decimal string with the trailing zeros of 10⁻⁹ removed."""
    text = format_amount(from_nano(nano))
    return text if "." in text or text == "0" else f"{text}.00"


@dataclass(frozen=True)
class ReleaseOptions:
    month: str
    final: bool = False
    grace: dt.timedelta = dt.timedelta(days=3)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    deployments: Sequence[Deployment] = ()
    source: str = ""
    #: model -> (quality index, 95 % low, high) from evaluations, for price-performance
    quality: Mapping[str, tuple[float, float, float]] | None = None
    #: Outcome reports for value per token (``ciyuan.stats.value``); None: none were read
    #: (a release from partitions without a store), shown as not available.
    outcomes: Sequence[Outcome] | None = None
    #: The month's settled records those reports may be about (a superset is fine).
    outcome_records: Sequence[UsageRecord] = ()


def _status(options: ReleaseOptions) -> str:
    """``A`` once the month is closed (grace over, or --final), else ``P``."""
    closed = options.now >= month_bounds(options.month)[1] + options.grace
    return "A" if options.final or closed else "P"


def _growth(current: int, previous: int | None) -> float | None:
    if previous is None or previous == 0:
        return None
    return current / previous - 1


def _table(title: str, unit: str, columns: Sequence[str],
           rows: Sequence[Sequence[object]]) -> dict[str, Any]:
    return {"title": title, "unit": unit, "columns": list(columns),
            "rows": [list(r) for r in rows]}


class _Builder:
    def __init__(self, cube: Cube, pricer: Pricer, options: ReleaseOptions) -> None:
        self.cube, self.pricer, self.options = cube, pricer, options
        self.month = options.month
        self.flag = _status(options)
        self.previous = shift_month(self.month, -1)
        self.year_ago = shift_month(self.month, -12)
        self._unpriced: set[str] = set()  # models the book has no price for (asked once)
        self._cells: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
        self.currencies = [str(r[0]) for r in cube.query(
            "SELECT DISTINCT currency FROM cube WHERE month = ? ORDER BY 1", [self.month])]

    def totals(self, month: str) -> dict[str, Any] | None:
        row = self.cube.query(
            "SELECT count(*), sum(requests), sum(native_tokens), sum(standard_tokens) "
            "FROM cube WHERE month = ?", [month])[0]
        if not row[0]:
            return None
        spend = self.cube.query(
            "SELECT currency, sum(charge_nano) FROM cube WHERE month = ? GROUP BY 1 ORDER BY 1",
            [month])
        return {"requests": int(row[1]), "native_tokens": int(row[2]),
                "standard_tokens": int(row[3]),
                "spend": {str(c): money(int(n)) for c, n in spend}}

    def breakdown(self, name: str, dimension: str, title: str) -> dict[str, Any]:
        spend_cols = [f"spend_{c}" for c in self.currencies]
        pivot = "".join(f", sum(charge_nano) FILTER (WHERE currency = '{c}')"
                        for c in self.currencies)
        rows = self.cube.query(
            f"SELECT {dimension}, sum(requests), sum(native_tokens), sum(standard_tokens)"
            f"{pivot} FROM cube WHERE month = ? GROUP BY 1 ORDER BY 4 DESC, 1", [self.month])
        before = dict(self.cube.query(
            f"SELECT {dimension}, sum(standard_tokens) FROM cube WHERE month = ? GROUP BY 1",
            [self.previous]))
        total_std = sum(int(r[3]) for r in rows) or 1
        total_req = sum(int(r[1]) for r in rows) or 1
        out = []
        for r in rows:
            prior = before.get(r[0])
            out.append([str(r[0]), int(r[1]), int(r[2]), int(r[3]),
                        *(money(int(v or 0)) for v in r[4:]),
                        int(r[3]) / total_std, int(r[1]) / total_req,
                        _growth(int(r[3]), int(prior) if prior is not None else None),
                        self.flag])
        columns = [dimension, "requests", "native_tokens", "standard_tokens", *spend_cols,
                   "share_standard_tokens", "share_requests", "growth_mom_standard_tokens",
                   "flag"]
        return _table(title, "requests; tokens; currency units; shares 0-1", columns, out)

    def categories(self) -> dict[str, Any]:
        sums = self.cube.query(
            "SELECT " + ", ".join(f"sum({c})" for c in CATEGORIES) + " FROM cube WHERE month = ?",
            [self.month])[0]
        total = sum(int(v or 0) for v in sums) or 1
        rows = [[c, int(v or 0), int(v or 0) / total, self.flag]
                for c, v in zip(CATEGORIES, sums, strict=True)]
        return _table("Native tokens by category", "tokens; share 0-1",
                      ["category", "native_tokens", "share", "flag"], rows)

    def unit_prices(self) -> dict[str, Any]:
        rows = self.cube.query(
            "SELECT model, currency, sum(native_tokens), sum(standard_tokens), sum(charge_nano) "
            "FROM cube WHERE month = ? GROUP BY 1, 2 ORDER BY 1, 2", [self.month])
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        out = []
        for model, currency, native, standard, charge in rows:
            for key in (str(currency),):
                acc = totals[key]
                acc[0] += int(native)
                acc[1] += int(standard)
                acc[2] += int(charge)
            out.append([str(model), str(currency), *self._per_million(int(charge), int(native),
                                                                      int(standard)), self.flag])
        for currency, (native, standard, charge) in sorted(totals.items()):
            out.append(["(all models)", currency, *self._per_million(charge, native, standard),
                        self.flag])
        return _table("Average unit prices", "currency per million tokens",
                      ["model", "currency", "per_million_native", "per_million_standard",
                       "flag"], out)

    @staticmethod
    def _per_million(charge_nano: int, native: int, standard: int) -> list[str | None]:
        def per(tokens: int) -> str | None:
            if tokens == 0:
                return None
            value = from_nano(charge_nano) * PER_MILLION / Decimal(tokens)
            return format(value.quantize(Decimal("0.000001")), "f")
        return [per(native), per(standard)]

    # -- price index ---------------------------------------------------------------------
    def _list_price(self, model: str, category: str, at: dt.datetime) -> float | None:
        """List price per million native tokens of one cell, in the index currency."""
        if model in self._unpriced:
            return None
        n = _PROBE_TOKENS
        probe = {"input": Usage(input_tokens=n), "cached_input": Usage(
            input_tokens=n, cached_input_tokens=n), "cache_write": Usage(
            input_tokens=n, cache_write_tokens=n), "output": Usage(output_tokens=n),
            "reasoning": Usage(output_tokens=n, reasoning_tokens=n)}[category]
        try:
            total = self.pricer.rate(probe, model=model, at=at, currency=INDEX_CURRENCY,
                                     convert=True).total
        except UnknownModelError:
            self._unpriced.add(model)
            return None
        except CiyuanError:  # not priced at this instant, or not in the index currency
            return None
        price = total * PER_MILLION / n
        return float(price) if price > 0 else None  # a statistic from here on

    def index_cells(self, month: str,
                    quality: Mapping[str, float] | None = None,
                    ) -> dict[tuple[str, str], tuple[float, float]]:
        """The month's priced cells; with ``quality``, each price per unit of its model's
        quality, over the models with a quality only."""
        cells = self._cells.get(month)
        if cells is None:
            cells = self._cells[month] = self._priced_cells(month)
        if quality is None:
            return cells
        return {k: (p / quality[k[0]], q) for k, (p, q) in cells.items()
                if quality.get(k[0], 0) > 0}

    def _priced_cells(self, month: str) -> dict[tuple[str, str], tuple[float, float]]:
        start, end = month_bounds(month)
        middle = start + (end - start) / 2
        rows = self.cube.query(
            "SELECT model, " + ", ".join(f"sum({c})" for c in CATEGORIES)
            + " FROM cube WHERE month = ? GROUP BY 1", [month])
        cells: dict[tuple[str, str], tuple[float, float]] = {}
        for model, *quantities in rows:
            for category, quantity in zip(CATEGORIES, quantities, strict=True):
                if not quantity:
                    continue
                price = self._list_price(str(model), category, middle)
                if price is not None:
                    cells[(str(model), category)] = (price, float(quantity))
        return cells

    def price_index(self, quality: Mapping[str, float] | None = None,
                    ) -> tuple[dict[str, Any], dict[str, list[float | None]]]:
        months = [m for m in self.cube.months if m <= self.month]
        levels: dict[str, list[float | None]] = {"tornqvist": [], "fisher": []}
        rows = []
        previous_cells: dict[tuple[str, str], tuple[float, float]] | None = None
        for month in months:
            cells = self.index_cells(month, quality)
            if previous_cells is None or not levels["tornqvist"]:
                t = f = 100.0 if cells else None
                matched = len(cells)
            else:
                last_t, last_f = levels["tornqvist"][-1], levels["fisher"][-1]
                matched = len(set(cells) & set(previous_cells))
                try:
                    t = last_t * tornqvist(previous_cells, cells) if last_t else None
                    f = last_f * fisher(previous_cells, cells) if last_f else None
                except CiyuanError:
                    t = f = None  # no matched cell: the chain breaks, shown as n/a
            levels["tornqvist"].append(t)
            levels["fisher"].append(f)
            covered = _coverage(cells, previous_cells)
            rows.append([month, _round(t), _round(f), matched, covered,
                         self.flag if month == self.month else self._flag_of(month)])
            previous_cells = cells
        what = "Quality-adjusted chained price index" if quality else "Chained price index"
        table = _table(f"{what}, base {months[0] if months else self.month} = 100",
                       "index points",
                       ["month", "tornqvist", "fisher", "matched_cells",
                        "expenditure_share_matched", "flag"], rows)
        return table, levels

    def price_performance(self, quality: Mapping[str, tuple[float, float, float]]
                          ) -> dict[str, Any]:
        """Quality per dollar of the standard workload (list prices at mid-month)."""
        start, end = month_bounds(self.month)
        middle = start + (end - start) / 2
        ranked: list[tuple[float, list[object]]] = []
        for model, (mean, low, high) in sorted(quality.items()):
            inp = self._list_price(model, "input", middle)
            out = self._list_price(model, "output", middle)
            cost = None if inp is None or out is None else round(
                WORKLOAD_INPUT * inp + (1 - WORKLOAD_INPUT) * out, 6)
            ratio = round(mean / cost, 4) if cost else None
            ranked.append((ratio or 0.0, [model, round(mean, 4), round(low, 4),
                                          round(high, 4), cost, ratio, self.flag]))
        rows = [row for _, row in sorted(ranked, key=lambda pair: -pair[0])]
        return _table("Price-performance: quality per dollar of the standard workload",
                      f"quality 0-1 (95 % interval); {INDEX_CURRENCY} per million native "
                      f"tokens, {WORKLOAD_INPUT:.0%} input / {1 - WORKLOAD_INPUT:.0%} output",
                      ["model", "quality", "quality_low", "quality_high",
                       "workload_usd_per_million", "quality_per_usd", "flag"], rows)

    def _flag_of(self, month: str) -> str:
        closed = self.options.now >= month_bounds(month)[1] + self.options.grace
        return "A" if closed else "P"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _coverage(cells: Mapping[tuple[str, str], tuple[float, float]],
              previous: Mapping[tuple[str, str], tuple[float, float]] | None) -> float | None:
    """Share of this month's list-price expenditure in cells that also existed last month."""
    total = sum(p * q for p, q in cells.values())
    if previous is None or total == 0:
        return None
    return round(sum(p * q for k, (p, q) in cells.items() if k in previous) / total, 6)


def build_release(cube: Cube, pricer: Pricer, options: ReleaseOptions) -> dict[str, Any]:
    """The release of ``options.month`` as a JSON-able dict (flags P or A; revisions are
    applied by ``ciyuan.stats.revision``)."""
    b = _Builder(cube, pricer, options)
    tables: dict[str, dict[str, Any]] = {}
    for name, (dimension, title) in BREAKDOWNS.items():
        tables[name] = b.breakdown(name, dimension, title)
    tables["volume_by_category"] = b.categories()
    tables["unit_prices"] = b.unit_prices()
    index_table, levels = b.price_index()
    tables["price_index"] = index_table
    adjusted: dict[str, list[float | None]] = {"tornqvist": [], "fisher": []}
    if options.quality:
        tables["price_performance"] = b.price_performance(options.quality)
        qa_table, adjusted = b.price_index({m: q[0] for m, q in options.quality.items()})
        tables["quality_adjusted_price_index"] = qa_table
    tables["energy"] = _table("Tokens per kWh of declared deployments",
                              "tokens per kWh; share 0-1",
                              ["deployment", "boundary", "models", "tokens_per_kwh",
                               "utilization", "flag"],
                              energy_rows(options.deployments, cube, options.month, b.flag))
    months = [m for m in cube.months if m <= options.month]
    current = b.totals(options.month) or {"requests": 0, "native_tokens": 0,
                                          "standard_tokens": 0, "spend": {}}
    valued = None if options.outcomes is None else value_figures(
        options.outcomes, options.outcome_records, month=options.month, as_of=options.now,
        month_native_tokens=current["native_tokens"])
    tables["value_per_token"] = value_table(valued or (), b.flag)
    prior, year_ago = b.totals(b.previous), b.totals(b.year_ago)
    purpose = {row[0]: row for row in tables["volume_by_purpose"]["rows"]}
    productive = purpose.get("productive")
    flag = b.flag

    def cell(value: object) -> dict[str, object]:
        return {"value": value, "flag": flag}

    headline = {
        "requests": cell(current["requests"]),
        "native_tokens": cell(current["native_tokens"]),
        "standard_tokens": cell(current["standard_tokens"]),
        "spend": cell(current["spend"]),
        "price_index_tornqvist": cell(_round(levels["tornqvist"][-1]) if months else None),
        "price_index_fisher": cell(_round(levels["fisher"][-1]) if months else None),
        "quality_adjusted_price_index_tornqvist": cell(
            _round(adjusted["tornqvist"][-1]) if adjusted["tornqvist"] else None),
        "productive_share_tokens": cell(
            productive[-4] if productive else (0.0 if months else None)),
        "productive_share_requests": cell(
            productive[-3] if productive else (0.0 if months else None)),
        "mom_growth_standard_tokens": cell(_growth(
            current["standard_tokens"], prior["standard_tokens"] if prior else None)),
        "yoy_growth_standard_tokens": cell(_growth(
            current["standard_tokens"], year_ago["standard_tokens"] if year_ago else None)),
        # from outcome reports only: not available without them, never estimated
        "value_per_million_tokens": cell(value_headline(valued or ())),
    }
    series_totals = [b.totals(m) for m in months]
    return {
        "schema": SCHEMA,
        "month": options.month,
        "revision": 0,
        "status": flag,
        "generated_at": options.now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "source": options.source,
        "headline": headline,
        "series": {
            "months": months,
            "standard_tokens": [t["standard_tokens"] if t else 0 for t in series_totals],
            "native_tokens": [t["native_tokens"] if t else 0 for t in series_totals],
            "requests": [t["requests"] if t else 0 for t in series_totals],
            "price_index_tornqvist": [_round(v) for v in levels["tornqvist"]],
            "price_index_fisher": [_round(v) for v in levels["fisher"]],
            "quality_adjusted_price_index_tornqvist": [_round(v) for v in adjusted["tornqvist"]],
        },
        "tables": tables,
        "notes": {
            "value_per_token": value_note(valued),
            "productive_share": "from the purpose each call declared (x-ciyuan-purpose); "
                                "undeclared traffic is its own row, never guessed",
        },
    }
