"""Writing a release: JSON, CSV and Parquet per table, SDMX-CSV, the change log, HTML.

Layout under the output directory, one folder per month::

    DIR/2026-10/release.json          the whole release (schema ciyuan.release/1)
    DIR/2026-10/release.r0.json       the publication a revision replaced (kept)
    DIR/2026-10/changes.json|.csv     what the latest revision changed
    DIR/2026-10/tables/NAME.csv|.parquet
    DIR/2026-10/release.sdmx.csv      every observation in SDMX-CSV (version 1.0 layout)
    DIR/2026-10/index.html            the report with charts; methods.html beside it

Every file is written beside its final name and renamed over it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ciyuan.stats.revision import Change, row_key

__all__ = ["DATAFLOW", "read_release", "release_dir", "sdmx_rows", "write_release"]

#: The SDMX dataflow the observations belong to (agency:id(version)).
DATAFLOW = "CIYUAN:TOKEN_ECONOMY(1.0)"
_SDMX_COLUMNS = ("DATAFLOW", "FREQ", "TIME_PERIOD", "TABLE", "BREAKDOWN", "MEASURE",
                 "UNIT_MEASURE", "OBS_VALUE", "OBS_STATUS")
_SDMX_MISSING = "M"  # SDMX observation status for a value that is not available


def release_dir(out: Path, month: str) -> Path:
    return out / month


def read_release(out: Path, month: str) -> dict[str, Any] | None:
    path = release_dir(out, month) / "release.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _parquet(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    arrays = []
    for i, _ in enumerate(columns):
        values = [row[i] for row in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds == {float, int} or kinds == {float}:
            values = [None if v is None else float(v) for v in values]  # type: ignore[arg-type]
        elif len(kinds) > 1 or kinds == {str}:
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values) if values else pa.array([], pa.string()))
    table = pa.Table.from_arrays(arrays, names=list(columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def sdmx_rows(release: dict[str, Any]) -> Iterator[tuple[object, ...]]:
    """Every observation of the release, one SDMX-CSV row each."""
    month = release["month"]
    for name, cell in release["headline"].items():
        value, flag = cell["value"], cell["flag"]
        if isinstance(value, dict):
            for currency, amount in value.items():
                yield (DATAFLOW, "M", month, "headline", "_T", name, currency, amount, flag)
        else:
            yield (DATAFLOW, "M", month, "headline", "_T", name, "",
                   "" if value is None else value, _SDMX_MISSING if value is None else flag)
    for name, table in release["tables"].items():
        columns = table["columns"]
        flag_at = columns.index("flag") if "flag" in columns else None
        for row in table["rows"]:
            key = row_key(name, row)
            period = row[0] if name == "price_index" else month
            breakdown = "_T" if name == "price_index" else "|".join(str(k) for k in key)
            for i, column in enumerate(columns):
                if i < len(key) or i == flag_at:
                    continue
                value = row[i]
                flag = row[flag_at] if flag_at is not None else ""
                unit = column.removeprefix("spend_") if column.startswith("spend_") else ""
                yield (DATAFLOW, "M", period, name, breakdown, column, unit,
                       "" if value is None else value, _SDMX_MISSING if value is None else flag)


def write_release(out: Path, release: dict[str, Any], changes: Sequence[Change],
                  previous: dict[str, Any] | None) -> Path:
    """Write every output of ``release``; the month's directory."""
    from ciyuan.stats.html import render_methods, render_report

    target = release_dir(out, release["month"])
    if previous is not None and changes:
        archived = target / f"release.r{previous.get('revision', 0)}.json"
        _atomic_write(archived, json.dumps(previous, ensure_ascii=False, indent=1).encode())
    for name, table in release["tables"].items():
        _atomic_write(target / "tables" / f"{name}.csv", _csv(table["columns"], table["rows"]))
        _atomic_write(target / "tables" / f"{name}.parquet",
                      _parquet(table["columns"], table["rows"]))
    _atomic_write(target / "release.sdmx.csv", _csv(_SDMX_COLUMNS, list(sdmx_rows(release))))
    if changes:
        _atomic_write(target / "changes.json",
                      json.dumps(list(changes), ensure_ascii=False, indent=1).encode())
        _atomic_write(target / "changes.csv", _csv(
            ("table", "key", "column", "previous", "new", "difference"),
            [(c["table"], "|".join(map(str, c["key"])), c["column"],
              json.dumps(c["previous"], ensure_ascii=False), json.dumps(c["new"],
                                                                         ensure_ascii=False),
              c["difference"]) for c in changes]))
    _atomic_write(target / "index.html", render_report(release, changes).encode("utf-8"))
    _atomic_write(target / "methods.html", render_methods(release).encode("utf-8"))
    _atomic_write(target / "release.json",
                  json.dumps(release, ensure_ascii=False, indent=1).encode("utf-8"))
    return target
