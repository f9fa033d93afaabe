"""The sim-provider under perturbation: it recognises the item behind a perturbed prompt and
flips its answer at the model's configured flip rate, so measured consistency lies within the
95 % interval around (1 - flip) ** variants; the request's seed counts as a variant."""

from __future__ import annotations

import math
from typing import Any

from simhelpers import call

from ciyuan.quality import get_scorer
from ciyuan.quality.builtin import DATA, prompt_key
from ciyuan.quality.perturb import KINDS, variants
from ciyuan.quality.suites import load_suite
from ciyuan.sim.skill import DEFAULT_FLIP_RATES, AnswerKey, Skills

SUITE = load_suite(DATA / "builtin.jsonl")


KEY = AnswerKey.builtin()


def _passed(answer: str | None, item: Any) -> bool:
    """Right or wrong: the key's correct answer passes its scorer and the wrong one fails
    (tests/quality/test_builtin_suite.py), so comparing with it is scoring."""
    entry = KEY.entries[prompt_key(item.prompt)]
    assert answer in (entry.correct, entry.wrong), item.id  # recognised
    return answer == entry.correct


def test_consistency_matches_the_configured_flip_rate() -> None:
    skills = Skills(KEY, {"steady": {"default": 0.7, "flip": 0.05},
                                          "shaky": {"default": 0.7, "flip": 0.25}}, seed=3)
    by_item: dict[str, list[Any]] = {}
    for v in variants(SUITE.items, KINDS, 2):  # 4 kinds × 2 seeds + 1 resample = 9
        by_item.setdefault(v.original, []).append(v)
    for model, flip in (("steady", 0.05), ("shaky", 0.25)):
        consistent, agree = [], []
        for item in SUITE.items:
            base = _passed(skills.answer(model, item.prompt), item)
            same = [_passed(skills.answer(model, v.item.prompt, v.seed if v.seed else None),
                            item) == base for v in by_item[item.id]]
            consistent.append(all(same))
            agree.extend(same)
        for measured, p, n in ((sum(consistent) / len(consistent), (1 - flip) ** 9,
                                len(consistent)), (sum(agree) / len(agree), 1 - flip,
                                                   len(agree))):
            half = 1.96 * math.sqrt(p * (1 - p) / n)
            assert abs(measured - p) <= half, (model, measured, p)


def test_an_unperturbed_prompt_without_seed_keeps_its_answer() -> None:
    skills = Skills(AnswerKey.builtin(), {"m": {"default": 0.5, "flip": 1.0}})
    item = SUITE.items[0]
    base = skills.answer("m", item.prompt)
    assert skills.answer("m", item.prompt) == base
    assert skills.answer("m", item.prompt, seed=4) != base  # flip 1: every variant flips
    assert skills.answer("m", "Tell me about dragons.") is None
    assert Skills(AnswerKey.builtin()).flip_rate("gpt-4o") == DEFAULT_FLIP_RATES["gpt-4o"]


def test_the_sim_reads_the_seed_and_answers_perturbed_items(app_factory: Any) -> None:
    skills = {"gpt-4o": {"default": 0.5, "flip": 1.0}}
    app = app_factory(models=("gpt-4o",), skills=skills, seed=2)
    item = next(i for i in SUITE.items if i.task == "qa")
    (typo,) = [v for v in variants([item], ("typos",), 1)]

    def ask(prompt: str, **extra: Any) -> bool:
        response = call(app, "POST", "/v1/chat/completions", {
            "model": "gpt-4o", "max_tokens": 200, **extra,
            "messages": [{"role": "user", "content": prompt}]})
        return _passed(response.json()["choices"][0]["message"]["content"], item)

    base = ask(item.prompt)
    answer = call(app, "POST", "/v1/chat/completions", {
        "model": "gpt-4o", "max_tokens": 200,
        "messages": [{"role": "user", "content": item.prompt}]}).json()
    scored = get_scorer(item.scorer).score(answer["choices"][0]["message"]["content"],
                                           item.reference)
    assert scored.passed is base
    assert ask(typo.item.prompt) is not base and ask(item.prompt, seed=1) is not base
