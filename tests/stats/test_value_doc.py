"""The worked example of docs/methods/value-per-token.md runs and its numbers hold."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "methods" / "value-per-token.md"


def test_worked_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), flags=re.S)
    assert blocks, "the method page lost its worked example"
    assert any("from ciyuan.stats.value import value_figures" in block for block in blocks)
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
