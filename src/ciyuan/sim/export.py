"""The usage export: what the simulated provider bills, per request or in OpenAI's buckets.

Billable requests are the log records with status 200: complete answers, and answers cut by
an injected or client disconnect (billed for what was generated). Injected 429s and 500s
bill nothing and are left out. Rows use the vocabulary of OpenAI's usage API
(``input_tokens`` includes ``input_cached_tokens`` and ``input_cache_write_tokens``;
``output_tokens`` includes ``output_reasoning_tokens``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from ciyuan.sim.config import EXPORT_PAGE_ROWS
from ciyuan.sim.errors import SimBadRequestError
from ciyuan.sim.log import read_log

__all__ = [
    "BUCKET_WIDTHS", "EXPORT_COLUMNS", "bucket_page", "export_rows", "export_text", "write_export",
]

TOKEN_FIELDS = ("input_tokens", "input_cached_tokens", "input_cache_write_tokens",
                "output_tokens", "output_reasoning_tokens")
#: Columns of the per-request export (CSV header order; JSON rows have the same keys).
EXPORT_COLUMNS = ("timestamp", "start_time", "request_id", "client_request_id", "response_id",
                  "model", "endpoint",
                  "stream", *TOKEN_FIELDS, "num_model_requests", "fault")
#: bucket_width → (seconds, default buckets per page, most buckets per page), as OpenAI's.
BUCKET_WIDTHS: Mapping[str, tuple[int, int, int]] = {
    "1m": (60, 60, 1440), "1h": (3600, 24, 168), "1d": (86400, 7, 31)}


def export_rows(records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """One row per billable request, in log order."""
    for record in records:
        if record.get("status") != 200:
            continue
        usage = record.get("usage") or {}
        yield {
            "timestamp": record["time"],
            "start_time": int(record["unix_ms"]) // 1000,
            "request_id": record["request_id"],
            "client_request_id": record.get("client_request_id"),
            "response_id": record.get("response_id"),
            "model": record["model"],
            "endpoint": record.get("endpoint"),
            "stream": bool(record.get("stream")),
            **{name: int(usage.get(name, 0)) for name in TOKEN_FIELDS},
            "num_model_requests": 1,
            "fault": record.get("fault"),
        }


def write_export(log: Path, fmt: str, out: TextIO) -> int:
    """Write the export of ``log`` as ``csv`` or ``json`` to ``out``, streamed; rows written."""
    rows = export_rows(read_log(log))
    written = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            written += 1
        return written
    out.write('{"object":"list","data":[')
    for row in rows:
        out.write(("," if written else "") + "\n" + json.dumps(row, ensure_ascii=False))
        written += 1
    out.write("\n]}\n")
    return written


def _result(rows: Sequence[Mapping[str, Any]], group: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"object": "organization.usage.completions.result"}
    for name in TOKEN_FIELDS:
        result[name] = sum(int(r[name]) for r in rows)
    result.update({"input_audio_tokens": 0, "output_audio_tokens": 0,
                   "num_model_requests": len(rows), "project_id": None, "user_id": None,
                   "api_key_id": None, "model": None, "batch": None})
    result.update(group)
    return result


def _query_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise SimBadRequestError(f"{name} must be a non-negative integer", field=name)
    return int(raw)


def bucket_page(log: Path, query: Mapping[str, str], now: int) -> dict[str, Any]:
    """``GET /v1/organization/usage/completions`` in OpenAI's page-of-buckets shape.

    Query: ``start_time`` (default 0), ``end_time`` (default now), ``bucket_width`` (1m, 1h,
    1d), ``group_by`` (comma list of ``model``, ``request_id``), ``limit`` (buckets),
    ``page`` (the ``next_page`` of the previous answer). Empty buckets are left out; a page
    ends after ``EXPORT_PAGE_ROWS`` requests, so a bucket can continue on the next page.
    """
    width_name = query.get("bucket_width", "1d")
    if width_name not in BUCKET_WIDTHS:
        raise SimBadRequestError("bucket_width must be 1m, 1h or 1d", field="bucket_width")
    width, default_limit, max_limit = BUCKET_WIDTHS[width_name]
    start, end = _query_int(query, "start_time", 0), _query_int(query, "end_time", now + 1)
    limit = min(max(1, _query_int(query, "limit", default_limit)), max_limit)
    skip = _query_int(query, "page", 0)
    groups = [g for g in query.get("group_by", "").split(",") if g]
    if any(g not in ("model", "request_id") for g in groups):
        raise SimBadRequestError("group_by takes model and/or request_id", field="group_by")
    buckets: dict[int, list[dict[str, Any]]] = {}
    taken, has_more = 0, False
    rows = (r for r in export_rows(read_log(log)) if start <= r["start_time"] < end)
    for index, row in enumerate(rows):
        if index < skip:
            continue
        bucket = row["start_time"] - row["start_time"] % width
        if taken >= EXPORT_PAGE_ROWS or (bucket not in buckets and len(buckets) >= limit):
            has_more = True
            break
        buckets.setdefault(bucket, []).append(row)
        taken += 1
    data = []
    for bucket, members in sorted(buckets.items()):
        grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in members:
            grouped.setdefault(tuple(row[g] for g in groups), []).append(row)
        data.append({"object": "bucket", "start_time": bucket, "end_time": bucket + width,
                     "start_time_iso": _iso(bucket), "results": [
                         _result(rs, dict(zip(groups, key, strict=True)))
                         for key, rs in grouped.items()]})
    return {"object": "page", "data": data, "has_more": has_more,
            "next_page": str(skip + taken) if has_more else None}


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def export_text(log: Path, fmt: str) -> str:
    """The whole export as one string (for tests and small logs)."""
    buffer = io.StringIO()
    write_export(log, fmt, buffer)
    return buffer.getvalue()
