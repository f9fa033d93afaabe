"""docs/how-to/invoices.md runs: its python blocks in order in one namespace, its toml blocks
as [invoice] tables; the concept pages exist and name the rules."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ciyuan.invoice import invoice_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOW_TO = DOCS / "how-to" / "invoices.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", HOW_TO.read_text("utf-8"), re.M | re.S)


def test_the_how_to_runs_top_to_bottom(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 5
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for number, code in enumerate(blocks):
        exec(compile(code, f"{HOW_TO.name}[python {number}]", "exec"), namespace)
    assert "invoice CY-2026-000001 · acme · 2026-01 · 25.00 USD" in capsys.readouterr().out


def test_the_worked_examples_are_there() -> None:
    text = HOW_TO.read_text("utf-8")
    assert "10,000 calls at $0.0025 each bill $25.00, not $0.00" in text
    assert "credit note" in text.lower()


@pytest.mark.parametrize("number", range(len(_blocks("toml"))))
def test_toml_examples_are_valid_invoice_tables(number: int) -> None:
    settings = invoice_settings(tomllib.loads(_blocks("toml")[number])["invoice"])
    assert settings.issuer


def test_the_concept_pages_state_the_rules() -> None:
    invoices = (DOCS / "concepts" / "invoices.md").read_text("utf-8").lower()
    for phrase in ("half-up", "cumulative minus already billed", "grace", "cy-2026-000123",
                   "unrounded", "rounding account", "credit note"):
        assert phrase in invoices, phrase
    reconciliation = (DOCS / "concepts" / "reconciliation.md").read_text("utf-8")
    for phrase in ("matched", "missing", "extra", "mismatched", "--apply", "reconciled"):
        assert phrase in reconciliation, phrase
