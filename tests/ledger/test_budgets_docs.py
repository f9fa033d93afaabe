"""Every Python example in docs/concepts/budgets.md runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "budgets.md"


def _blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", DOC.read_text("utf-8"), re.M | re.S)


def test_the_page_covers_the_concepts() -> None:
    text = DOC.read_text("utf-8").lower()
    for heading in ("## levels", "## periods and time zones", "## the reservation flow",
                    "## wallets and credit lines", "## token packs"):
        assert heading in text
    assert len(_blocks()) >= 2


@pytest.mark.parametrize("number", range(len(_blocks())))
def test_python_example_runs(number: int) -> None:
    code = _blocks()[number]
    exec(compile(code, f"{DOC.name}[python {number}]", "exec"), {"__name__": "__doc_example__"})
