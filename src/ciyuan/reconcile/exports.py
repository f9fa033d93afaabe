"""Read a provider's usage export into :class:`ProviderRow` values.

Accepted shapes (``format="auto"`` tells them apart):

* **per-request CSV** with a header: OpenAI-style (``timestamp, request_id, model,
  input_tokens, input_cached_tokens, output_tokens``) or the simulated provider's
  (``ciyuan sim-provider export --format csv``: also ``start_time``, ``response_id``,
  ``input_cache_write_tokens``, ``output_reasoning_tokens``, ``num_model_requests``);
* **per-request JSON**: a list of such rows, an object holding one under ``data`` (the sim
  provider's ``{"object": "list", "data": [...]}``), or JSON Lines; a row may instead carry an
  OpenAI ``usage`` object (``prompt_tokens``, ``completion_tokens``, details);
* **OpenAI Usage API pages** (``/v1/organization/usage/completions``: ``{"object": "page",
  "data": [{"object": "bucket", "start_time", "end_time", "results": [...]}]}``, or a list of
  pages): one row per bucket result, ``end`` set; results grouped by ``request_id`` become
  per-request rows.

Counts follow OpenAI's convention (cached input and cache writes inside input, reasoning
inside output). Timestamps are ISO 8601 (naive = UTC) or Unix seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from ciyuan.core.errors import InputError
from ciyuan.core.money import decimal
from ciyuan.core.usage import Usage
from ciyuan.reconcile.errors import ReconcileExportError

__all__ = ["MAX_EXPORT_ROWS", "ExportKind", "ProviderExport", "ProviderRow", "load_export",
           "parse_export"]

#: Rows read from one file. A row costs ~1 KB in memory; a million (a busy tenant's month of
#: requests) stays near 1 GB. Split larger exports by day and reconcile each.
MAX_EXPORT_ROWS = 1_000_000
ExportKind = Literal["requests", "buckets"]

#: Usage field → the column names providers use for it (first match wins).
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "input_tokens": ("input_tokens", "prompt_tokens", "n_context_tokens_total"),
    "cached_input_tokens": ("input_cached_tokens", "cached_input_tokens", "cached_tokens",
                            "cache_read_input_tokens"),
    "cache_write_tokens": ("input_cache_write_tokens", "cache_write_tokens",
                           "cache_creation_input_tokens"),
    "output_tokens": ("output_tokens", "completion_tokens", "n_generated_tokens_total"),
    "reasoning_tokens": ("output_reasoning_tokens", "reasoning_tokens", "reasoning"),
    "requests": ("num_model_requests", "requests"),
}
_TIME = ("timestamp", "time", "created", "created_at", "started_at", "start_time")
_IDS = ("request_id", "id", "x_request_id")
_COST = ("cost", "cost_usd", "amount", "amount_usd")


@dataclass(frozen=True)
class ProviderRow:
    """One billed request (or one bucket result) as the provider reports it."""

    request_id: str
    at: dt.datetime
    model: str
    usage: Usage
    fields: frozenset[str]
    cost: Decimal | None = None
    end: dt.datetime | None = None
    alt_ids: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class ProviderExport:
    kind: ExportKind
    rows: tuple[ProviderRow, ...]
    source: str = ""


def _fail(where: str, message: str, **details: object) -> ReconcileExportError:
    return ReconcileExportError(f"{where}: {message}", **details)


def _pick(row: Mapping[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        value = row.get(name)
        if value is not None and value != "":
            return value
    return None


def _instant(value: Any, where: str) -> dt.datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    text = str(value).strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _fail(where, f"timestamp {text!r} is neither ISO 8601 nor Unix seconds",
                        field="timestamp") from None
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(
            dt.UTC)
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000)
    return dt.datetime.fromtimestamp(whole, dt.UTC) + dt.timedelta(microseconds=micros)


def _count(value: Any, name: str, where: str) -> int | None:
    if value is None or value == "" or str(value).lower() in ("true", "false"):
        return None  # absent, or a flag rather than a count
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise _fail(where, f"{name} must be a whole non-negative number, not {value!r}",
                    field=name)
    return int(text)


def _row(raw: Mapping[str, Any], where: str, start: Any = None, end: Any = None) -> ProviderRow:
    """One row from a dict with normalized (lower-case, snake_case) keys."""
    nested = raw.get("usage")
    counts: dict[str, int] = {}
    if isinstance(nested, Mapping):
        counts = {k: v for k, v in Usage.from_openai(nested).to_dict().items() if v}
        counts.pop("requests", None)
    for field, names in _ALIASES.items():
        found = _count(_pick(raw, names), field, where)
        if found is not None:
            counts[field] = found
    when = _pick(raw, _TIME) if start is None else start
    model = _pick(raw, ("model", "model_name", "snapshot_id"))
    if when is None:
        raise _fail(where, "no timestamp column (timestamp, time, created or start_time)",
                    field="timestamp")
    if "input_tokens" not in counts and "output_tokens" not in counts:
        raise _fail(where, "no token counts (input_tokens and output_tokens)",
                    field="input_tokens")
    counts.setdefault("requests", 1)
    try:
        usage = Usage(**counts)
    except InputError as error:
        raise _fail(where, error.message, field=str(error.details.get("field", ""))) from None
    cost = _pick(raw, _COST)
    ids = [str(v) for v in (_pick(raw, _IDS), raw.get("response_id"),
                            raw.get("client_request_id")) if v]
    return ProviderRow(
        request_id=ids[0] if ids else "", at=_instant(when, where),
        model=str(model or ""), usage=usage, fields=frozenset(counts),
        cost=decimal(str(cost), field="cost") if cost is not None else None,
        end=_instant(end, where) if end is not None else None, alt_ids=tuple(ids[1:]),
        source=where)


def _normalized(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower().replace(" ", "_").replace("-", "_"): v
            for k, v in row.items() if k is not None}


def _bounded(rows: Iterable[ProviderRow], source: str) -> tuple[ProviderRow, ...]:
    out: list[ProviderRow] = []
    for row in rows:
        if len(out) >= MAX_EXPORT_ROWS:
            raise _fail(source, f"more than {MAX_EXPORT_ROWS:,} rows; split the export by day "
                        "and reconcile each part", field="rows")
        out.append(row)
    return tuple(out)


def _csv(text: str, source: str) -> ProviderExport:
    reader = csv.DictReader(io.StringIO(text))
    rows = (_row(_normalized(r), f"{source} line {reader.line_num}") for r in reader)
    return ProviderExport("requests", _bounded(rows, source), source)


def _buckets(pages: Sequence[Mapping[str, Any]], source: str) -> ProviderExport:
    def rows() -> Iterable[ProviderRow]:
        for p, page in enumerate(pages):
            for b, bucket in enumerate(page["data"]):
                results = bucket.get("results") if isinstance(bucket, Mapping) else None
                if not isinstance(results, list):
                    raise _fail(f"{source} page {p + 1} bucket {b + 1}",
                                "a bucket needs a list of results", field="results")
                for r, result in enumerate(results):
                    where = f"{source} page {p + 1} bucket {b + 1} result {r + 1}"
                    if not isinstance(result, Mapping):
                        raise _fail(where, "a result must be an object", field="results")
                    yield _row(_normalized(result), where, bucket.get("start_time"),
                               bucket.get("end_time"))
    found = _bounded(rows(), source)
    kind: ExportKind = "requests" if found and all(r.request_id for r in found) else "buckets"
    return ProviderExport(kind, found, source)


def _is_page(page: Any) -> bool:
    """An OpenAI usage page: ``object: page``, or ``data`` holding buckets of results."""
    if not isinstance(page, Mapping) or not isinstance(page.get("data"), list):
        return False
    return page.get("object") == "page" or any(
        isinstance(b, Mapping) and "results" in b for b in page["data"])


def _json(data: Any, source: str) -> ProviderExport:
    pages = data if isinstance(data, list) else [data]
    if pages and all(_is_page(p) for p in pages):
        return _buckets(pages, source)
    if isinstance(data, Mapping):
        data = _pick(data, ("data", "rows", "requests"))
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        raise _fail(source, "expected a list of request rows, {\"data\": [...]}, or OpenAI "
                    "usage pages of buckets", field="json")
    rows = (_row(_normalized(r), f"{source} row {i + 1}") for i, r in enumerate(data))
    return ProviderExport("requests", _bounded(rows, source), source)


def parse_export(text: str, source: str = "export",
                 fmt: Literal["auto", "csv", "json"] = "auto") -> ProviderExport:
    """Parse export ``text``; ``auto`` picks JSON when it starts with ``{`` or ``[``."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if fmt == "csv" or (fmt == "auto" and not stripped.startswith(("{", "["))):
        return _csv(stripped, source)
    try:
        return _json(json.loads(stripped), source)
    except json.JSONDecodeError:
        try:  # JSON Lines: one row object per line
            lines = [json.loads(line) for line in stripped.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise _fail(source, f"not valid JSON ({error.msg} at line {error.lineno})",
                        field="json") from None
        return _json(lines, source)


def load_export(path: str | Path, fmt: Literal["auto", "csv", "json"] = "auto",
                ) -> ProviderExport:
    """Read and parse the export file at ``path``."""
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(str(file), f"cannot read the export: {error}; check the path",
                    field="file") from None
    return parse_export(text, file.name, fmt)
