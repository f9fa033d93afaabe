"""One pass over the partitions: the cube every table of the release is cut from.

DuckDB scans the Parquet partitions once and groups by month and every dimension the release
breaks volumes down by. The cube is small (its size is the number of distinct dimension
combinations, not of records), so each table is then a cheap query on it. This is why a
release over 10⁸ records costs about one group-by of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from ciyuan.stats.partitions import partition_path

__all__ = ["CATEGORIES", "DIMENSIONS", "Cube", "build_cube"]

#: The dimensions of the cube (columns of the partitions).
DIMENSIONS = ("model", "provider", "origin_country", "region", "purpose", "modality", "sector",
              "currency")
#: Native token categories that add up to a record's native total (no overlap): uncached input,
#: cached input, cache writes, visible output and reasoning output.
CATEGORIES = ("input", "cached_input", "cache_write", "output", "reasoning")

_MEASURES = """
    count(*)::BIGINT AS requests,
    sum(input_tokens - cached_input_tokens - cache_write_tokens)::BIGINT AS input,
    sum(cached_input_tokens)::BIGINT AS cached_input,
    sum(cache_write_tokens)::BIGINT AS cache_write,
    sum(output_tokens - reasoning_tokens)::BIGINT AS output,
    sum(reasoning_tokens)::BIGINT AS reasoning,
    sum(input_tokens + output_tokens)::BIGINT AS native_tokens,
    sum(standard_tokens)::BIGINT AS standard_tokens,
    sum(charge_nano)::HUGEINT AS charge_nano"""


class Cube:
    """The aggregated cube in an in-memory DuckDB database, table ``cube``."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, months: Sequence[str]) -> None:
        self.conn = conn
        self.months = list(months)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        self.conn.close()


def build_cube(root: Path, months: Sequence[str], *, threads: int | None = None) -> Cube:
    """Scan the partitions of ``months`` that exist under ``root`` into a cube."""
    files = [str(partition_path(root, m)) for m in months if partition_path(root, m).exists()]
    conn = duckdb.connect(":memory:")
    if threads:
        conn.execute(f"SET threads = {int(threads)}")
    dims = ", ".join(DIMENSIONS)
    if files:
        conn.execute(
            f"CREATE TABLE cube AS SELECT month, {dims}, {_MEASURES} "
            "FROM read_parquet(?, union_by_name = true) GROUP BY ALL", [files])
    else:
        columns = ", ".join(f"NULL::VARCHAR AS {d}" for d in ("month", *DIMENSIONS))
        conn.execute(f"CREATE TABLE cube AS SELECT {columns}, 0::BIGINT AS requests, "
                     + ", ".join(f"0::BIGINT AS {c}" for c in (*CATEGORIES, "native_tokens",
                                                               "standard_tokens"))
                     + ", 0::HUGEINT AS charge_nano LIMIT 0")
    present = {str(r[0]) for r in conn.execute("SELECT DISTINCT month FROM cube").fetchall()}
    return Cube(conn, [m for m in months if m in present])
