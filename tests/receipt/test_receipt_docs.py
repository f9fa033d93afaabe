"""The Python example in docs/concepts/receipts.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "receipts.md"


def test_the_python_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
    assert "receipt-body-mismatch" in capsys.readouterr().out


def test_the_documented_bound_is_the_codes() -> None:
    from ciyuan.receipt import MAX_RECEIPT_CHARS

    assert f"{MAX_RECEIPT_CHARS:,}" in DOC.read_text("utf-8")
