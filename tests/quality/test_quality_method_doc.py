"""docs/methods/quality-index.md says what the code does: its robustness table is what the
simulated provider measures, and its weights and thresholds are the code's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ciyuan.quality.builtin import DATA
from ciyuan.quality.index import DEFAULT_WEIGHTS
from ciyuan.quality.perturb import KINDS, TYPO_RATE, variants
from ciyuan.quality.suites import load_suite
from ciyuan.sim.skill import DEFAULT_FLIP_RATES, DEFAULT_SKILLS, AnswerKey, Skills

DOCS = Path(__file__).resolve().parents[2] / "docs"
METHOD = (DOCS / "methods" / "quality-index.md").read_text("utf-8")
CONCEPTS = (DOCS / "concepts" / "quality.md").read_text("utf-8")


def test_the_robustness_table_is_what_the_sim_measures() -> None:
    rows = re.findall(r"^\| ([\w.-]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", METHOD, re.M)
    assert {r[0] for r in rows} == set(DEFAULT_FLIP_RATES)
    suite = load_suite(DATA / "builtin.jsonl")
    skills = Skills(AnswerKey.builtin(), DEFAULT_SKILLS, 0)
    by_item: dict[str, list[str]] = {}
    for v in variants(suite.items, KINDS, 1):
        by_item.setdefault(v.original, []).append(v.item.prompt)
    for model, flip, expected, measured in rows:
        assert float(flip) == DEFAULT_FLIP_RATES[model]
        assert float(expected) == pytest.approx((1 - float(flip)) ** len(KINDS), abs=5e-4)
        same = [all(skills.answer(model, p) == skills.answer(model, item.prompt)
                    for p in by_item[item.id]) for item in suite.items]
        assert float(measured) == pytest.approx(sum(same) / len(same), abs=5e-4)


def test_weights_and_rates_are_the_codes() -> None:
    assert ("accuracy 0.4, completeness 0.2, efficiency 0.2, robustness 0.2" in METHOD
            and DEFAULT_WEIGHTS == {"accuracy": 0.4, "completeness": 0.2, "efficiency": 0.2,
                                    "robustness": 0.2})
    assert f"at {TYPO_RATE * 100:g} % of eligible" in METHOD
    from ciyuan.quality.semantic import POINT_THRESHOLD, SIMILARITY_THRESHOLD

    assert f"`point_threshold` ({POINT_THRESHOLD})" in CONCEPTS
    assert f"`threshold` ({SIMILARITY_THRESHOLD})" in CONCEPTS
