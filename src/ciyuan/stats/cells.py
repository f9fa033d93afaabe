"""Cells: one integer key per combination of the dimensions a release breaks volumes down by.

A release groups 10⁸ records by month, model, region, purpose, modality, sector and currency.
Hashing seven text keys per record is most of the cost of that scan, yet a month holds only a
few thousand distinct combinations. So the export gives every record a ``cell``: an integer
that names its combination, and writes the combinations into the partition file's key-value
metadata (``ciyuan.cells``). The release then groups by one integer column and joins the few
thousand cells back to their dimensions.

A cell id carries its month in the high 32 bits (``months since year 0 << 32 | index``), so
cells of different months never collide and a scan over many partitions needs no month key.
A partition without the metadata (written by another tool, or by an older ciyuan) is read by
its text columns instead; both give the same cube (tested).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow.parquet as pq

__all__ = ["CELL_DIMENSIONS", "CELLS_KEY", "MAX_CELLS_PER_MONTH", "CellAssigner",
           "month_code", "read_cells"]

#: The record columns a cell stands for, in the order its metadata lists them.
CELL_DIMENSIONS = ("model", "region", "purpose", "modality", "sector", "currency")
#: The Parquet key-value metadata key holding a partition's cells.
CELLS_KEY = b"ciyuan.cells"
#: Cells a month may hold: the index has 32 bits below the month code.
MAX_CELLS_PER_MONTH = 1 << 32
_FORMAT = 1


def month_code(month: str) -> int:
    """``YYYY-MM`` as months since year 0 (the high half of its cell ids)."""
    year, mon = map(int, month.split("-"))
    return year * 12 + mon - 1


class CellAssigner:
    """Hands out the cell ids of one month's partition as its rows are written."""

    def __init__(self, month: str) -> None:
        self.month = month
        self._base = month_code(month) << 32
        self._ids: dict[tuple[str, ...], int] = {}

    def cell(self, row: Mapping[str, object]) -> int:
        key = tuple(str(row[d]) for d in CELL_DIMENSIONS)
        index = self._ids.get(key)
        if index is None:
            index = self._ids[key] = len(self._ids)
            assert index < MAX_CELLS_PER_MONTH
        return self._base | index

    def metadata(self) -> dict[bytes, bytes]:
        """The key-value metadata that names every cell handed out (index order)."""
        document = {"format": _FORMAT, "month": self.month, "dimensions": CELL_DIMENSIONS,
                    "cells": list(self._ids)}
        return {CELLS_KEY: json.dumps(document, ensure_ascii=False).encode()}


def read_cells(path: Path) -> list[tuple[object, ...]] | None:
    """``(cell, month, *dimensions)`` for every cell of a partition; None without cells."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(CELLS_KEY)
    if raw is None:
        return None
    document = json.loads(raw)
    if document.get("format") != _FORMAT or tuple(document["dimensions"]) != CELL_DIMENSIONS:
        return None  # another layout: read the text columns instead
    month = str(document["month"])
    base = month_code(month) << 32
    cells: Sequence[Sequence[str]] = document["cells"]
    return [(base | i, month, *values) for i, values in enumerate(cells)]
