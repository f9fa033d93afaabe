"""One pass over the partitions: the cube every table of the release is cut from.

DuckDB scans the Parquet partitions once and groups by month and every dimension the release
breaks volumes down by: by the records' ``cell`` column (one integer per combination, see
``ciyuan.stats.cells``) where every partition has cells, else by the text columns. The cube is
small (its size is the number of distinct dimension
combinations, not of records), so each table is then a cheap query on it. This is why a
release over 10⁸ records costs about one group-by of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ciyuan.catalog.models import Catalog
from ciyuan.stats.cells import CELL_DIMENSIONS, read_cells
from ciyuan.stats.errors import StatsError
from ciyuan.stats.partitions import partition_path

__all__ = ["CATEGORIES", "DIMENSIONS", "Cube", "build_cube"]

#: The dimensions of the cube (columns of the partitions; ``month`` comes from the directory).
DIMENSIONS = ("model", "provider", "origin_country", "region", "purpose", "modality", "sector",
              "currency")
#: Dimensions read from the records; provider and origin country are attributes of the model.
_SCANNED = CELL_DIMENSIONS
#: Native token categories that add up to a record's native total (no overlap): uncached input,
#: cached input, cache writes, visible output and reasoning output.
CATEGORIES = ("input", "cached_input", "cache_write", "output", "reasoning")

# Plain sums in the scan (the cheapest aggregate); the categories are differences of sums.
_SCAN = """
    count(*)::BIGINT AS requests,
    sum(input_tokens)::BIGINT AS input_tokens,
    sum(cached_input_tokens)::BIGINT AS cached_input,
    sum(cache_write_tokens)::BIGINT AS cache_write,
    sum(output_tokens)::BIGINT AS output_tokens,
    sum(reasoning_tokens)::BIGINT AS reasoning,
    sum(standard_tokens)::BIGINT AS standard_tokens,
    sum(charge_nano)::HUGEINT AS charge_nano"""
_DERIVED = """
    requests, input_tokens - cached_input - cache_write AS input, cached_input, cache_write,
    output_tokens - reasoning AS output, reasoning, input_tokens + output_tokens AS native_tokens,
    standard_tokens, charge_nano"""


class Cube:
    """The aggregated cube in an in-memory DuckDB database, table ``cube``."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, months: Sequence[str]) -> None:
        self.conn = conn
        self.months = list(months)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        self.conn.close()


def _attributes(conn: duckdb.DuckDBPyConnection, files: list[str],
                catalog: Catalog) -> list[tuple[str, str, str]]:
    """(model, provider, origin country) of every model in the cube: from the catalog, and
    for models it does not know, from the records themselves (a second, narrow scan)."""
    models = [str(r[0]) for r in conn.execute("SELECT DISTINCT model FROM scanned").fetchall()]
    rows, unknown = [], []
    for model in models:
        if model in catalog:
            info = catalog.get(model)
            vendor = catalog.providers.get(info.provider)
            rows.append((model, info.provider, vendor.country if vendor else "unknown"))
        else:
            unknown.append(model)
    if unknown:
        rows += [(str(m), str(p), str(c)) for m, p, c in conn.execute(
            "SELECT model, any_value(provider), any_value(origin_country) "
            "FROM read_parquet(?) WHERE model IN (SELECT unnest(?)) GROUP BY model",
            [files, unknown]).fetchall()]
    return rows


def _scan_by_cells(conn: duckdb.DuckDBPyConnection, files: list[str]) -> bool:
    """Fill ``scanned`` grouping by cell; False (nothing done) if a partition has no cells."""
    cells: list[tuple[object, ...]] = []
    for file in files:
        found = read_cells(Path(file))
        if found is None:
            return False
        cells += found
    columns = ("cell", "month", *CELL_DIMENSIONS)
    table = pa.Table.from_arrays(
        [pa.array([c[i] for c in cells], type=pa.int64() if i == 0 else pa.string())
         for i in range(len(columns))], names=list(columns))
    conn.register("cell_names", table)
    conn.execute(f"CREATE TEMP TABLE by_cell AS SELECT cell, {_SCAN} FROM read_parquet(?) "
                 "GROUP BY cell", [files])
    unnamed = conn.execute("SELECT count(*), coalesce(sum(requests), 0) FROM by_cell "
                           "ANTI JOIN cell_names USING (cell)").fetchone()
    if unnamed is not None and unnamed[0]:
        raise StatsError(f"{unnamed[1]} records in {len(files)} partitions carry a cell that "
                         "their file's ciyuan.cells metadata does not name: the partitions were "
                         "altered after export; export them again (`ciyuan report` without "
                         "--no-export)")
    keys = ", ".join(f"n.{c}" for c in columns[1:])
    conn.execute(f"CREATE TEMP TABLE scanned AS SELECT {keys}, s.* EXCLUDE (cell) "
                 "FROM by_cell s JOIN cell_names n USING (cell)")
    conn.unregister("cell_names")
    return True


def build_cube(root: Path, months: Sequence[str], catalog: Catalog, *,
               threads: int | None = None) -> Cube:
    """Scan the partitions of ``months`` that exist under ``root`` into a cube."""
    files = [str(partition_path(root, m)) for m in months if partition_path(root, m).exists()]
    conn = duckdb.connect(":memory:")
    conn.execute("SET enable_progress_bar = false")
    if threads:
        conn.execute(f"SET threads = {int(threads)}")
    keys = ", ".join(_SCANNED)
    if files and not _scan_by_cells(conn, files):
        conn.execute(
            f"CREATE TEMP TABLE scanned AS SELECT month, {keys}, {_SCAN} "
            "FROM read_parquet(?, hive_partitioning = true) GROUP BY ALL", [files])
    elif not files:
        columns = ", ".join(f"NULL::VARCHAR AS {d}" for d in ("month", *_SCANNED))
        sums = ", ".join(f"0::BIGINT AS {c}" for c in (
            "requests", "input_tokens", "cached_input", "cache_write", "output_tokens",
            "reasoning", "standard_tokens"))
        conn.execute(f"CREATE TEMP TABLE scanned AS SELECT {columns}, {sums}, "
                     "0::HUGEINT AS charge_nano LIMIT 0")
    conn.execute("CREATE TEMP TABLE attributes (model VARCHAR, provider VARCHAR, "
                 "origin_country VARCHAR)")
    attributes = _attributes(conn, files, catalog)
    if attributes:
        conn.executemany("INSERT INTO attributes VALUES (?, ?, ?)", attributes)
    conn.execute(
        f"CREATE TABLE cube AS SELECT month, model, provider, origin_country, region, purpose, "
        f"modality, sector, currency, {_DERIVED} FROM scanned JOIN attributes USING (model)")
    present = {str(r[0]) for r in conn.execute("SELECT DISTINCT month FROM cube").fetchall()}
    return Cube(conn, [m for m in months if m in present])
