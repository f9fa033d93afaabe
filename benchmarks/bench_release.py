"""The release at scale: ciyuan's `publish` against a bare DuckDB group-by of the same records.

Generates N synthetic usage records (default 10^7; pass --records 100000000 for 10^8) with
DuckDB straight into the partition layout ``ciyuan.stats.partitions`` writes and reads (13
months, each row with its cell and each file with the cells' names),
then, in one run and interleaved over --rounds rounds:

* floor: one DuckDB ``GROUP BY model`` summing tokens and charges over the same Parquet files
  (the least any release over these records must pay: one scan);
* ciyuan: ``ciyuan.stats.publish.publish(..., export=False)``: the cube, every table, the
  chained index, every output file.

Prints medians and the ratio ciyuan / floor, and the peak RSS of each (measured in a child
process per run), and writes JSON to benchmarks/results/bench_release.json (--write).
Generated data lives in benchmarks/.work/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from ciyuan.stats.cells import CELL_DIMENSIONS, CellAssigner

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "release"
MONTHS = [f"2025-{m:02d}" for m in range(10, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
MODELS = ["gpt-4o", "gpt-4o-mini", "qwen-plus", "deepseek-chat", "claude-sonnet-4-5",
          "gemini-2.5-pro", "glm-4.5", "moonshot-v1-128k", "doubao-seed-1.6",
          "llama-3.3-70b-instruct"]


def _rows_sql(month: str, index: int, per_month: int) -> str:
    """The synthetic records of one month (deterministic functions of the row number)."""
    models = ", ".join(f"'{m}'" for m in MODELS)
    return f"""
      SELECT 'r' || {index} || '-' || r AS id, '{month}' AS month,
        TIMESTAMPTZ '{month}-01 00:00:00+00' + to_seconds(r % 2419200) AS started_at,
        't' || (r % 997) AS tenant,
        ['software','finance','manufacturing','education','government','other'][1 + r % 6]
            AS sector,
        'a' || (r % 53) AS agent,
        [{models}][1 + (hash(r) % 10)::INT] AS model,
        ['openai','openai','qwen','deepseek','anthropic','google','zhipu','moonshot',
         'bytedance','meta'][1 + (hash(r) % 10)::INT] AS provider,
        ['US','US','CN','CN','US','US','CN','CN','CN','US'][1 + (hash(r) % 10)::INT]
            AS origin_country,
        ['cn-east','cn-north','cn-south','us-west'][1 + r % 4] AS region,
        ['productive','consumptive','evaluation','undeclared'][1 + (hash(r + 1) % 4)::INT]
            AS purpose,
        CASE WHEN r % 50 = 0 THEN 'image' ELSE 'text' END AS modality,
        'completed' AS status,
        (200 + hash(r + 2) % 4000)::BIGINT AS input_tokens,
        (hash(r + 3) % 200)::BIGINT AS cached_input_tokens,
        0::BIGINT AS cache_write_tokens,
        (50 + hash(r + 4) % 800)::BIGINT AS output_tokens,
        (hash(r + 5) % 40)::BIGINT AS reasoning_tokens,
        (250 + hash(r + 2) % 4000 + hash(r + 4) % 800)::BIGINT AS standard_tokens,
        'USD' AS currency,
        (1000 + hash(r + 6) % 3000000)::BIGINT AS charge_nano
      FROM range({per_month}) t(r)"""


def generate(records: int) -> Path:
    """``records`` rows spread evenly over MONTHS, one Parquet partition per month, laid out
    as ``ciyuan.stats.partitions.export_months`` writes them: every row with its ``cell`` and
    the file's ``ciyuan.cells`` metadata naming the cells (``CellAssigner``'s ids)."""
    root = WORK / f"v3-n{records}"
    marker = root / "done"
    if marker.exists():
        return root
    per_month = records // len(MONTHS)
    conn = duckdb.connect()
    dims = ", ".join(CELL_DIMENSIONS)
    for i, month in enumerate(MONTHS):
        target = root / f"month={month}"
        target.mkdir(parents=True, exist_ok=True)
        conn.execute(f"CREATE OR REPLACE TEMP VIEW rows AS {_rows_sql(month, i, per_month)}")
        combos = conn.execute(f"SELECT DISTINCT {dims} FROM rows ORDER BY ALL").fetchall()
        cells = CellAssigner(month)
        ids = [cells.cell(dict(zip(CELL_DIMENSIONS, c, strict=True))) for c in combos]
        conn.register("cells", pa.table({"cell": ids, **{
            d: [str(c[k]) for c in combos] for k, d in enumerate(CELL_DIMENSIONS)}}))
        (key, value), = cells.metadata().items()
        meta = value.decode().replace("'", "''")
        conn.execute(f"""
            COPY (SELECT rows.*, cells.cell FROM rows JOIN cells USING ({dims}))
            TO '{target / "usage.parquet"}'
            (FORMAT parquet, KV_METADATA {{'{key.decode()}': '{meta}'}})""")
        conn.unregister("cells")
    conn.close()
    marker.write_text(str(records))
    return root


FLOOR = """
import duckdb, sys
files = sys.argv[1] + "/month=*/usage.parquet"
rows = duckdb.connect().execute(
    "SELECT model, count(*), sum(input_tokens + output_tokens), sum(standard_tokens), "
    "sum(charge_nano) FROM read_parquet(?) GROUP BY model", [files]).fetchall()
assert rows
"""
# The same information as the release's cube, as a bare query: every dimension the release
# breaks down by and every measure it sums (the floor for a release of that content).
FLOOR_CUBE = """
import duckdb, sys
files = sys.argv[1] + "/month=*/usage.parquet"
rows = duckdb.connect().execute(
    "SELECT month, model, region, purpose, modality, sector, currency, count(*), "
    "sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), "
    "sum(output_tokens), sum(reasoning_tokens), sum(standard_tokens), "
    "sum(charge_nano)::HUGEINT FROM read_parquet(?, hive_partitioning = true) GROUP BY ALL",
    [files]).fetchall()
assert rows
"""
CIYUAN = """
import sys, datetime as dt
from pathlib import Path
from ciyuan.catalog.models import load_catalog
from ciyuan.price.api import default_pricer
from ciyuan.stats.publish import publish
out = Path(sys.argv[2])
pub = publish(month="2026-10", out=out, base="2025-10", partitions=Path(sys.argv[1]),
              pricer=default_pricer(), catalog=load_catalog(),
              now=dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
assert pub.release["headline"]["requests"]["value"] > 0
"""
def run(code: str, *args: str) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of ``code`` in a fresh interpreter."""
    wrapper = ("import resource, sys, time\nt = time.perf_counter()\n"
               f"sys.argv = ['bench', *{list(args)!r}]\n{code}\n"
               "print(time.perf_counter() - t, "
               "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                          check=True)
    seconds, rss = done.stdout.split()[-2:]
    return float(seconds), float(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, action="append",
                        help="records to generate (repeatable; default 10^7)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/bench_release.json")
    args = parser.parse_args()
    results = []
    for records in args.records or [10_000_000]:
        started = time.perf_counter()
        root = generate(records)
        print(f"{records:,} records in {root} (generated in "
              f"{time.perf_counter() - started:.0f} s)", flush=True)
        floor, cube, ours = [], [], []
        for i in range(args.rounds):
            floor.append(run(FLOOR, str(root)))
            cube.append(run(FLOOR_CUBE, str(root)))
            ours.append(run(CIYUAN, str(root), str(WORK / f"out-{records}-{i}")))
            print(f"  round {i + 1}: floor {floor[-1][0]:.2f} s, same-content group-by "
                  f"{cube[-1][0]:.2f} s, ciyuan {ours[-1][0]:.2f} s", flush=True)
        f_s = statistics.median(s for s, _ in floor)
        c_s = statistics.median(s for s, _ in cube)
        o_s = statistics.median(s for s, _ in ours)
        # The median of each round's own ratio: rounds run back to back, so a slow spell on
        # the machine hits both contenders of a round alike.
        paired = statistics.median(o / f for (o, _), (f, _) in zip(ours, floor, strict=True))
        row = {"records": records, "floor_s": round(f_s, 3), "ciyuan_s": round(o_s, 3),
               "ratio": round(o_s / f_s, 3), "ratio_paired_median": round(paired, 3),
               "same_content_group_by_s": round(c_s, 3),
               "ratio_to_same_content": round(o_s / c_s, 3),
               "floor_peak_rss_mib": round(max(r for _, r in floor), 1),
               "ciyuan_peak_rss_mib": round(max(r for _, r in ours), 1)}
        results.append(row)
        print(f"  median: ciyuan / floor = {row['ratio']:.2f}x (median of per-round ratios "
              f"{paired:.2f}x), ciyuan / same-content "
              f"group-by = {row['ratio_to_same_content']:.2f}x; peak RSS ciyuan "
              f"{row['ciyuan_peak_rss_mib']:.0f} MiB, floor {row['floor_peak_rss_mib']:.0f} MiB")
    if len(results) > 1:
        a, b = results[0], results[-1]
        growth = (b["ciyuan_s"] / a["ciyuan_s"]) / (b["records"] / a["records"])
        print(f"time growth per record from {a['records']:,} to {b['records']:,}: {growth:.2f} "
              "(1.00 = linear)")
    if args.write:
        (ROOT / "results" / "bench_release.json").write_text(json.dumps({
            "machine": {"cpus": len(__import__("os").sched_getaffinity(0)),
                        "python": platform.python_version(),
                        "duckdb": duckdb.__version__},
            "rounds": args.rounds, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
