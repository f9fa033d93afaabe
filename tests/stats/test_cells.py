"""Cells: the integer keys the export writes, read back into the same cube as text keys."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_release import CALLS, CONFIG, _write

from ciyuan.catalog.models import load_catalog
from ciyuan.stats.cells import CELLS_KEY, CellAssigner, month_code, read_cells
from ciyuan.stats.cube import build_cube
from ciyuan.stats.errors import StatsError
from ciyuan.stats.partitions import partition_path

MONTHS = ["2026-08", "2026-09"]


def _cube_rows(root: Path) -> list[tuple[object, ...]]:
    cube = build_cube(root, MONTHS, load_catalog(CONFIG))
    try:
        return cube.query("SELECT * FROM cube ORDER BY ALL")
    finally:
        cube.close()


def test_cells_and_text_keys_give_the_same_cube(tmp_path: Path) -> None:
    _write(tmp_path / "cells", CALLS, cells=True)
    _write(tmp_path / "text", CALLS, cells=False)
    assert read_cells(partition_path(tmp_path / "cells", "2026-09")) is not None
    assert read_cells(partition_path(tmp_path / "text", "2026-09")) is None
    with_cells = _cube_rows(tmp_path / "cells")
    assert with_cells == _cube_rows(tmp_path / "text")
    assert sum(int(r[9]) for r in with_cells) == len(CALLS)  # type: ignore[call-overload]


def test_a_cell_id_names_its_month_and_combination() -> None:
    cells = CellAssigner("2026-09")
    row = {"model": "m", "region": "r", "purpose": "productive", "modality": "text",
           "sector": "s", "currency": "USD"}
    first = cells.cell(row)
    assert cells.cell(dict(row)) == first  # same combination, same cell
    other = cells.cell({**row, "region": "r2"})
    assert other == first + 1 and first >> 32 == month_code("2026-09")
    assert CellAssigner("2026-10").cell(row) != first  # months never collide


def test_a_partition_whose_cells_were_altered_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, CALLS, cells=True)
    path = partition_path(tmp_path, "2026-09")
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    # Drop the last cell's name: its records can no longer be attributed.
    import json
    document = json.loads(metadata[CELLS_KEY])
    document["cells"] = document["cells"][:-1]
    metadata[CELLS_KEY] = json.dumps(document).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)
    with pytest.raises(StatsError, match="export them again"):
        build_cube(tmp_path, MONTHS, load_catalog(CONFIG))
