"""Every example in docs/how-to/pricing.md runs: python blocks execute, toml blocks parse."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ciyuan.price.engine import parse_plans

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "pricing.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text("utf-8"), re.M | re.S)


def test_the_page_has_the_three_worked_examples() -> None:
    text = DOC.read_text("utf-8")
    for heading in ("two-part tariff", "graduated tier crossing", "expiring token pack",
                    "pay for quality", "pay for outcome"):
        assert heading in text.lower()
    assert len(_blocks("python")) >= 8


@pytest.mark.parametrize("number", range(len(_blocks("python"))))
def test_python_example_runs(number: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = _blocks("python")[number]
    exec(compile(code, f"{DOC.name}[python {number}]", "exec"), {"__name__": "__doc_example__"})


@pytest.mark.parametrize("number", range(len(_blocks("toml"))))
def test_toml_example_is_a_valid_plan(number: int) -> None:
    data = tomllib.loads(_blocks("toml")[number])
    plans = parse_plans(data["plans"], f"{DOC.name}[toml {number}]")
    assert plans and all(plan.components for plan in plans.values())
