"""Release figures against an independent plain-Python computation on a small dataset, and a
late event that produces an R-flagged revision with the right difference."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.catalog.models import load_catalog
from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.price.api import pricer_from_config
from ciyuan.stats.cells import CellAssigner
from ciyuan.stats.partitions import (
    PARTITION_SCHEMA,
    month_of,
    partition_path,
    record_row,
    with_cells,
)
from ciyuan.stats.publish import publish

SRC = {"source": "test book", "retrieved": "2026-11-22"}
CONFIG = {
    "providers": {"acme-ai": {"name": "Acme AI", "country": "CN", "api_style": "openai",
                              "base_url": "http://acme.invalid/v1"}},
    "models": {
        "stat-a": {"provider": "acme-ai", "tokenizer": "o200k_base"},
        "stat-b": {"provider": "acme-ai", "tokenizer": "o200k_base"},
    },
    "prices": {
        "stat-a": [
            {"currency": "USD", "effective_from": "2026-01-01", "effective_to": "2026-09-01", **SRC,
             "input": "2.00", "cached_input": "0.50", "output": "8.00"},
            {"currency": "USD", "effective_from": "2026-09-01", **SRC,
             "input": "1.50", "cached_input": "0.50", "output": "6.00"},
        ],
        "stat-b": [{"currency": "USD", "effective_from": "2026-01-01", **SRC,
                    "input": "0.40", "output": "1.20"}],
    },
}
#: List prices per million tokens by month (mid-month) and cell, as the book above says.
LIST = {
    "2026-08": {("stat-a", "input"): 2.0, ("stat-a", "cached_input"): 0.5,
                ("stat-a", "output"): 8.0, ("stat-b", "input"): 0.4, ("stat-b", "output"): 1.2},
    "2026-09": {("stat-a", "input"): 1.5, ("stat-a", "cached_input"): 0.5,
                ("stat-a", "output"): 6.0, ("stat-b", "input"): 0.4, ("stat-b", "output"): 1.2},
}
# (month, day, tenant, sector, model, purpose, input, cached, output, standard, charge_nano)
CALLS = [
    ("2026-08", 3, "t1", "software", "stat-a", "productive", 1000, 200, 500, 1400, 6_100_000),
    ("2026-08", 9, "t2", "finance", "stat-b", "consumptive", 3000, 0, 1000, 3900, 2_400_000),
    ("2026-08", 20, "t1", "software", "stat-b", "undeclared", 800, 0, 200, 990, 560_000),
    ("2026-09", 2, "t1", "software", "stat-a", "productive", 2000, 1000, 900, 2800, 7_400_000),
    ("2026-09", 5, "t2", "finance", "stat-a", "productive", 500, 0, 500, 1000, 3_750_000),
    ("2026-09", 17, "t2", "finance", "stat-b", "consumptive", 4000, 0, 2000, 5900, 4_000_000),
    ("2026-09", 28, "t3", "education", "stat-b", "undeclared", 100, 0, 50, 140, 100_000),
]
NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def _record(i: int, call: tuple[object, ...]) -> tuple[UsageRecord, str]:
    month, day, tenant, sector, model, purpose, inp, cached, out, std, charge = call
    start = dt.datetime.strptime(f"{month}-{day:02d} 12:00", "%Y-%m-%d %H:%M").replace(
        tzinfo=dt.UTC)
    record = UsageRecord(
        id=f"r{i}", tenant=str(tenant), model=str(model), provider="sim",
        endpoint="chat.completions", started_at=start, status="completed",
        purpose=purpose,  # type: ignore[arg-type]
        completed_at=start, usage=Usage(input_tokens=int(inp), cached_input_tokens=int(cached),  # type: ignore[call-overload]
                                        output_tokens=int(out)),
        standard_input_tokens=int(std) // 2, standard_output_tokens=int(std) - int(std) // 2,  # type: ignore[call-overload]
        currency="USD", charge_nano=int(charge))  # type: ignore[call-overload]
    return record, str(sector)


def _write(root: Path, calls: list[tuple[object, ...]], *, cells: bool = True) -> None:
    """Partitions as the export writes them (with cells), or with text keys only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    catalog = load_catalog(CONFIG)
    by_month: dict[str, list[dict[str, object]]] = defaultdict(list)
    for i, call in enumerate(calls):
        record, sector = _record(i, call)
        by_month[month_of(record.started_at)].append(
            record_row(record, {record.tenant: sector}, catalog))
    for month, rows in by_month.items():
        path = partition_path(root, month)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=PARTITION_SCHEMA)
        if cells:
            assigner = CellAssigner(month)
            table = pa.Table.from_pylist(list(with_cells(rows, assigner)),
                                         schema=PARTITION_SCHEMA.with_metadata(
                                             assigner.metadata()))
        pq.write_table(table, path)


def _publish(out: Path, calls: list[tuple[object, ...]], *,
             cells: bool = True) -> dict[str, object]:
    _write(out / "partitions", calls, cells=cells)
    publication = publish(month="2026-09", out=out, base="2026-08",
                          pricer=pricer_from_config(CONFIG), catalog=load_catalog(CONFIG),
                          now=NOW)
    return publication.release


def _tornqvist(p0: dict[tuple[str, str], tuple[float, float]],
               p1: dict[tuple[str, str], tuple[float, float]]) -> float:
    common = sorted(set(p0) & set(p1))
    e0 = {k: p0[k][0] * p0[k][1] for k in common}
    e1 = {k: p1[k][0] * p1[k][1] for k in common}
    s0 = {k: e0[k] / sum(e0.values()) for k in common}
    s1 = {k: e1[k] / sum(e1.values()) for k in common}
    return math.exp(sum((s0[k] + s1[k]) / 2 * math.log(p1[k][0] / p0[k][0]) for k in common))


def _fisher(p0: dict[tuple[str, str], tuple[float, float]],
            p1: dict[tuple[str, str], tuple[float, float]]) -> float:
    common = set(p0) & set(p1)
    laspeyres = (sum(p1[k][0] * p0[k][1] for k in common)
                 / sum(p0[k][0] * p0[k][1] for k in common))
    paasche = (sum(p1[k][0] * p1[k][1] for k in common)
               / sum(p0[k][0] * p1[k][1] for k in common))
    return math.sqrt(laspeyres * paasche)


def _cells(month: str) -> dict[tuple[str, str], tuple[float, float]]:
    quantity: dict[tuple[str, str], float] = defaultdict(float)
    for m, _, _, _, model, _, inp, cached, out, _, _ in CALLS:
        if m == month:
            quantity[(str(model), "input")] += int(inp) - int(cached)  # type: ignore[call-overload]
            quantity[(str(model), "cached_input")] += int(cached)  # type: ignore[call-overload]
            quantity[(str(model), "output")] += int(out)  # type: ignore[call-overload]
    return {k: (LIST[month][k], q) for k, q in quantity.items() if q}


@pytest.mark.parametrize("cells", [True, False], ids=["cells", "text-keys"])
def test_figures_equal_a_plain_computation(tmp_path: Path, cells: bool) -> None:
    release = _publish(tmp_path, CALLS, cells=cells)
    september = [c for c in CALLS if c[0] == "2026-09"]
    august = [c for c in CALLS if c[0] == "2026-08"]
    headline = release["headline"]
    assert isinstance(headline, dict)
    native = sum(int(c[6]) + int(c[8]) for c in september)  # type: ignore[call-overload]
    standard = sum(int(c[9]) for c in september)  # type: ignore[call-overload]
    assert headline["requests"]["value"] == len(september)
    assert headline["native_tokens"]["value"] == native
    assert headline["standard_tokens"]["value"] == standard
    spend = sum(int(c[10]) for c in september)  # type: ignore[call-overload]
    assert Decimal(headline["spend"]["value"]["USD"]) == Decimal(spend) / 10**9
    assert headline["requests"]["flag"] == "A"  # September closed long before NOW
    productive = sum(int(c[9]) for c in september if c[5] == "productive")  # type: ignore[call-overload]
    assert headline["productive_share_tokens"]["value"] == pytest.approx(productive / standard)
    assert headline["productive_share_requests"]["value"] == pytest.approx(2 / 4)
    august_std = sum(int(c[9]) for c in august)  # type: ignore[call-overload]
    assert headline["mom_growth_standard_tokens"]["value"] == pytest.approx(
        standard / august_std - 1)
    assert headline["yoy_growth_standard_tokens"]["value"] is None
    assert headline["value_per_million_tokens"]["value"] is None  # never made up

    tables = release["tables"]
    assert isinstance(tables, dict)
    by_sector = {r[0]: r for r in tables["volume_by_sector"]["rows"]}
    assert by_sector["finance"][1:4] == [2, 500 + 500 + 4000 + 2000, 1000 + 5900]
    assert by_sector["education"][3] == 140
    prices = {(r[0], r[1]): r for r in tables["unit_prices"]["rows"]}
    a_native = 2000 + 900 + 500 + 500
    assert Decimal(prices[("stat-a", "USD")][2]) == (
        Decimal(7_400_000 + 3_750_000) / 10**9 * 10**6 / a_native).quantize(Decimal("0.000001"))
    categories = {r[0]: r[1] for r in tables["volume_by_category"]["rows"]}
    assert categories == {"input": 2000 - 1000 + 500 + 4000 + 100, "cached_input": 1000,
                          "cache_write": 0, "output": 900 + 500 + 2000 + 50, "reasoning": 0}

    t = 100 * _tornqvist(_cells("2026-08"), _cells("2026-09"))
    f = 100 * _fisher(_cells("2026-08"), _cells("2026-09"))
    assert headline["price_index_tornqvist"]["value"] == pytest.approx(t, abs=1e-4)
    assert headline["price_index_fisher"]["value"] == pytest.approx(f, abs=1e-4)
    assert t < 100  # stat-a's price cut on 1 September
    assert release["series"]["price_index_tornqvist"][0] == 100.0  # type: ignore[index]


def test_outputs_are_written_and_consistent(tmp_path: Path) -> None:
    release = _publish(tmp_path, CALLS)
    month = tmp_path / "2026-09"
    for name in ("release.json", "release.sdmx.csv", "index.html", "methods.html",
                 "tables/volume_by_model.csv", "tables/volume_by_model.parquet"):
        assert (month / name).exists(), name
    assert json.loads((month / "release.json").read_text()) == release
    with (month / "release.sdmx.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    requests = next(r for r in rows if r["TABLE"] == "headline" and r["MEASURE"] == "requests")
    assert requests["OBS_VALUE"] == "4" and requests["OBS_STATUS"] == "A"
    assert all(r["DATAFLOW"] == "CIYUAN:TOKEN_ECONOMY(1.0)" for r in rows)
    missing = next(r for r in rows if r["MEASURE"] == "value_per_million_tokens")
    assert missing["OBS_STATUS"] == "M" and missing["OBS_VALUE"] == ""
    # published from partitions, no store: value per token is n/a, and the report says why
    assert release["tables"]["value_per_token"]["rows"] == []  # type: ignore[index]
    assert (month / "tables" / "value_per_token.csv").read_text().startswith("currency,")
    assert "without a store" in release["notes"]["value_per_token"]  # type: ignore[index]
    assert "published from usage partitions without a store" in (
        month / "index.html").read_text()
    import duckdb

    parquet = duckdb.connect().execute(
        f"SELECT sum(standard_tokens) FROM '{month}/tables/volume_by_model.parquet'").fetchone()
    assert parquet is not None and parquet[0] == release["headline"]["standard_tokens"]["value"]  # type: ignore[index]


def test_a_late_event_produces_an_r_flagged_revision(tmp_path: Path) -> None:
    first = _publish(tmp_path, CALLS)
    assert first["revision"] == 0
    late = ("2026-09", 29, "t3", "education", "stat-b", "undeclared", 300, 0, 100, 420, 300_000)
    second = _publish(tmp_path, [*CALLS, late])
    assert second["revision"] == 1 and second["status"] == "R"
    headline = second["headline"]
    assert isinstance(headline, dict)
    assert headline["standard_tokens"]["flag"] == "R"
    before = first["headline"]["standard_tokens"]["value"]  # type: ignore[index]
    assert headline["standard_tokens"]["value"] == before + 420
    sectors = {r[0]: r for r in second["tables"]["volume_by_sector"]["rows"]}  # type: ignore[index]
    assert sectors["education"][-1] == "R"  # its volume changed
    assert sectors["software"][-1] == "R"  # its volume did not, but its share did
    prices = {(r[0], r[1]): r for r in second["tables"]["unit_prices"]["rows"]}  # type: ignore[index]
    assert prices[("stat-a", "USD")][-1] == "A"  # untouched by the late stat-b call
    changes = json.loads((tmp_path / "2026-09" / "changes.json").read_text())
    std = next(c for c in changes if c["table"] == "headline" and c["key"] == ["standard_tokens"])
    assert std["difference"] == 420
    edu = next(c for c in changes if c["table"] == "volume_by_sector"
               and c["key"] == ["education"] and c["column"] == "requests")
    assert (edu["previous"], edu["new"], edu["difference"]) == (1, 2, 1)
    assert (tmp_path / "2026-09" / "release.r0.json").exists()
    third = _publish(tmp_path, [*CALLS, late])  # nothing new: same revision, flags kept
    assert third["revision"] == 1 and third["headline"]["standard_tokens"]["flag"] == "R"  # type: ignore[index]


def test_quality_adds_price_performance_and_an_adjusted_index(tmp_path: Path) -> None:
    results = tmp_path / "eval" / "builtin-1"
    results.mkdir(parents=True)
    rows = [{"model": "stat-a", "task": "math", "item": f"i{i}", "value": 1.0 if i < 8 else 0.0,
             "passed": i < 8} for i in range(10)]  # stat-a: 0.8
    rows += [{"model": "stat-b", "task": "math", "item": f"i{i}", "value": 1.0 if i < 4 else 0.0,
              "passed": i < 4} for i in range(10)]  # stat-b: 0.4
    (results / "all.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    _write(tmp_path / "partitions", CALLS)
    release = publish(month="2026-09", out=tmp_path, base="2026-08",
                      pricer=pricer_from_config(CONFIG), catalog=load_catalog(CONFIG), now=NOW,
                      quality_results=tmp_path / "eval").release
    table = release["tables"]["price_performance"]
    by_model = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    # September list prices: stat-a 1.5 in / 6.0 out, stat-b 0.4 / 1.2 per million
    assert by_model["stat-a"]["workload_usd_per_million"] == pytest.approx(0.75 * 1.5 + 0.25 * 6)
    assert by_model["stat-b"]["workload_usd_per_million"] == pytest.approx(0.75 * 0.4 + 0.25 * 1.2)
    assert by_model["stat-a"]["quality"] == 0.8 and by_model["stat-b"]["quality"] == 0.4
    assert by_model["stat-b"]["quality_per_usd"] == pytest.approx(0.4 / 0.6, abs=1e-4)
    assert table["rows"][0][0] == "stat-b"  # cheaper per unit of quality ranks first
    # price per unit of quality: each cell's price divided by its model's quality; the
    # relatives stay, the expenditure weights move towards the lower-quality model's cells
    quality = {"stat-a": 0.8, "stat-b": 0.4}

    def per_quality(month: str) -> dict[tuple[str, str], tuple[float, float]]:
        return {k: (p / quality[k[0]], q) for k, (p, q) in _cells(month).items()}

    adjusted = release["headline"]["quality_adjusted_price_index_tornqvist"]["value"]
    assert adjusted == pytest.approx(
        100 * _tornqvist(per_quality("2026-08"), per_quality("2026-09")), abs=1e-4)
    assert "quality_adjusted_price_index" in release["tables"]
