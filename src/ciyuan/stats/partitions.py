"""Usage records as monthly Parquet partitions: the columnar copy the release reads.

The store stays the system of record. ``export_months`` copies the settled records of each
month into ``DIR/month=YYYY-MM/usage.parquet`` (replacing that month's file, so a re-export
after late events picks them up), joined with what statistics need and the store does not
hold per record: the tenant's sector, the model's provider and its country of origin, and the
call's modality. Each row also carries its ``cell`` (see ``ciyuan.stats.cells``): the integer
key of its dimension combination, named in the file's metadata, which the release groups by.
A partition written by anything else (the release benchmark generates 10⁸
synthetic rows straight into this layout) is read the same way.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ciyuan.catalog.models import Catalog
from ciyuan.core.records import UsageRecord
from ciyuan.stats.cells import CellAssigner
from ciyuan.store.usage import UsageStore

__all__ = ["PARTITION_SCHEMA", "ROW_GROUP", "export_months", "month_bounds", "month_of",
           "months_between", "partition_path", "record_row", "shift_month", "with_cells"]

#: Rows buffered per Parquet row group while exporting (bounds the exporter's memory).
ROW_GROUP = 100_000

PARTITION_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("month", pa.string()),
    ("started_at", pa.timestamp("us", tz="UTC")),
    ("tenant", pa.string()),
    ("sector", pa.string()),
    ("agent", pa.string()),
    ("model", pa.string()),
    ("provider", pa.string()),
    ("origin_country", pa.string()),
    ("region", pa.string()),
    ("purpose", pa.string()),
    ("modality", pa.string()),
    ("status", pa.string()),
    ("input_tokens", pa.int64()),
    ("cached_input_tokens", pa.int64()),
    ("cache_write_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("reasoning_tokens", pa.int64()),
    ("standard_tokens", pa.int64()),
    ("currency", pa.string()),
    ("charge_nano", pa.int64()),
    ("cell", pa.int64()),  # null in partitions written without cells (read by text columns)
])


def month_of(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC start (inclusive) and end (exclusive) of ``YYYY-MM``."""
    start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start, end


def shift_month(month: str, by: int) -> str:
    """``YYYY-MM`` moved by ``by`` months (negative: back)."""
    year, mon = map(int, month.split("-"))
    index = year * 12 + mon - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive."""
    months, current = [], first
    while current <= last:
        months.append(current)
        current = shift_month(current, 1)
    return months


def partition_path(root: Path, month: str) -> Path:
    return root / f"month={month}" / "usage.parquet"


def _modality(record: UsageRecord) -> str:
    usage = record.usage
    assert usage is not None
    if record.endpoint == "embeddings":
        return "embedding"
    media = [name for name, count in (("image", usage.input_image_tokens + usage.images
                                       + usage.output_image_tokens),
                                      ("audio", usage.input_audio_tokens + usage.audio_seconds
                                       + usage.output_audio_tokens),
                                      ("video", usage.input_video_tokens)) if count]
    return "text" if not media else media[0] if len(media) == 1 else "multimodal"


def record_row(record: UsageRecord, sectors: Mapping[str, str],
               catalog: Catalog) -> dict[str, object]:
    """One settled record as a partition row."""
    usage = record.usage
    assert usage is not None, "only settled records are exported"
    provider, country = record.provider, ""
    if record.model in catalog:  # the model's vendor, not the upstream that served it
        provider = catalog.get(record.model).provider
        vendor = catalog.providers.get(provider)
        country = vendor.country if vendor is not None else ""
    return {
        "id": record.id, "month": month_of(record.started_at), "started_at": record.started_at,
        "tenant": record.tenant, "sector": sectors.get(record.tenant, "unknown"),
        "agent": record.agent, "model": record.model, "provider": provider,
        "origin_country": country or "unknown", "region": record.region or "unknown",
        "purpose": record.purpose, "modality": _modality(record), "status": record.status,
        "input_tokens": usage.input_tokens, "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens, "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "standard_tokens": record.standard_input_tokens + record.standard_output_tokens,
        "currency": record.currency or "USD", "charge_nano": record.charge_nano,
    }


def with_cells(rows: Iterable[dict[str, object]],
               cells: CellAssigner) -> Iterator[dict[str, object]]:
    """The rows, each given the cell of its dimension combination."""
    for row in rows:
        row["cell"] = cells.cell(row)
        yield row


def _batches(rows: Iterable[dict[str, object]]) -> Iterator[pa.RecordBatch]:
    buffer: list[dict[str, object]] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) == ROW_GROUP:
            yield pa.RecordBatch.from_pylist(buffer, schema=PARTITION_SCHEMA)
            buffer = []
    if buffer:
        yield pa.RecordBatch.from_pylist(buffer, schema=PARTITION_SCHEMA)


def export_months(store: UsageStore, months: Iterable[str], root: Path, *,
                  sectors: Mapping[str, str], catalog: Catalog,
                  progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write each month's settled records to its partition; rows written per month.

    Each file is written beside its final name and renamed over it, so a reader never sees
    half a partition and an interrupted export leaves the previous one in place.
    """
    written: dict[str, int] = {}
    for month in months:
        start, end = month_bounds(month)
        target = partition_path(root, month)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".parquet.partial")
        count, cells = 0, CellAssigner(month)
        with pq.ParquetWriter(partial, PARTITION_SCHEMA) as writer:
            rows = (record_row(r, sectors, catalog) for r in store.query(start, end))
            for batch in _batches(with_cells(rows, cells)):
                writer.write_batch(batch)
                count += batch.num_rows
                if progress is not None:
                    progress(month, count)
            writer.add_key_value_metadata(cells.metadata())
        os.replace(partial, target)
        written[month] = count
    return written
