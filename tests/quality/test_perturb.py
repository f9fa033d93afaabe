"""Perturbations are deterministic by seed, keep what the answer depends on, and the
simulated provider still recognises the item behind every variant."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.quality.builtin import DATA, prompt_key
from ciyuan.quality.errors import QualityError
from ciyuan.quality.perturb import KINDS, RESAMPLE, perturb, split_variant_id, variants
from ciyuan.quality.suites import load_suite
from ciyuan.sim.recognise import PromptIndex

SUITE = load_suite(DATA / "builtin.jsonl")


def test_every_kind_changes_the_prompt_and_keeps_numbers_and_reference_words() -> None:
    for item in SUITE.items:
        for kind in KINDS:
            for seed in range(2):
                text = perturb(item, kind, seed)
                assert text == perturb(item, kind, seed)  # deterministic
                assert re.findall(r"\d+", text) == re.findall(r"\d+", item.prompt)
                if kind != "typos":
                    assert item.prompt in text  # the item word for word, reframed
    changed = sum(perturb(i, "typos", 0) != i.prompt for i in SUITE.items)
    assert changed >= len(SUITE.items) - 5  # a typo wherever a word or character allows


def test_typos_never_touch_reference_words_or_identifiers() -> None:
    code = next(i for i in SUITE.items if i.task == "code")
    extraction = next(i for i in SUITE.items if i.task == "extraction" and i.language == "en")
    for seed in range(30):
        assert "add(" in perturb(code, "typos", seed) or "(" not in code.prompt
        text = perturb(extraction, "typos", seed)
        for field in ("invoice", "company", "city", "amount"):
            assert field in text


@given(st.text(min_size=1, max_size=80), st.integers(0, 50))
@settings(max_examples=50, deadline=None)
def test_typos_keep_every_digit(prompt: str, seed: int) -> None:
    item = SUITE.items[0].__class__("x", "qa", "en", prompt, "A", "choice")
    assert [c for c in perturb(item, "typos", seed) if c.isdigit()] == [
        c for c in prompt if c.isdigit()]


def test_variants_and_their_ids() -> None:
    items = SUITE.items[:3]
    found = variants(items, ("typos", "paraphrase"), 3)
    assert len(found) == 3 * (2 * 3 + 2)  # kinds × seeds, and resampled under seeds 1, 2
    assert {v.kind for v in found} == {"typos", "paraphrase", RESAMPLE}
    for v in found:
        assert split_variant_id(v.item.id) == (v.original, v.kind, v.seed)
        assert v.item.reference == next(i for i in items if i.id == v.original).reference
    assert split_variant_id("math-en-000") is None
    with pytest.raises(QualityError, match="unknown perturbation"):
        variants(items, ("shout",), 1)


def test_the_sim_recognises_every_variant_of_the_builtin_suite() -> None:
    index = PromptIndex.build({prompt_key(i.prompt): i.prompt for i in SUITE.items})
    keys = {i.id: prompt_key(i.prompt) for i in SUITE.items}
    for v in variants(SUITE.items, KINDS, 3):
        assert index.find(v.item.prompt) == keys[v.original], v.item.id
    for chat in ("Hello, how are you today? Tell me a story about dragons.",
                 "请给我讲一个关于龙的故事。", "What is the price per million tokens of gpt-4o?",
                 SUITE.items[0].prompt + " " + "and then tell me a long story " * 20):
        assert index.find(chat) is None
