from __future__ import annotations

from pathlib import Path

from ciyuan.cli.docgen import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text("utf-8") == render(), (
        "docs/reference/cli.md is stale: run `python -m ciyuan.cli.docgen > docs/reference/cli.md`"
    )


def test_every_command_has_help() -> None:
    text = render()
    for name in ("count", "tokenizers", "calibrate", "demo"):
        assert f"## `ciyuan {name}`" in text
