"""The judge scorer agrees with reference labels: a simulated judge of configured accuracy
grades a labelled sample of built-in items through the real gateway, and the measured Cohen's
κ lies within its 95 % interval (Cohen's standard error at this sample size) around the κ that
accuracy implies. The measured figures are the ones docs/methods/quality-index.md reports."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from pathlib import Path

import pytest
from judge_env import JudgeEnv

from ciyuan.quality.agreement import cohen_kappa, expected_kappa
from ciyuan.quality.builtin import DATA, prompt_key
from ciyuan.quality.judge import Judge, position_bias
from ciyuan.quality.suites import load_suite

pytestmark = pytest.mark.anyio
JUDGE, ACCURACY = "gpt-4o", 0.85
DOCS = Path(__file__).resolve().parents[2] / "docs" / "methods" / "quality-index.md"


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


def _sample() -> list[tuple[str, str, object, bool]]:
    """(question, graded answer, reference, label) for every built-in item: the key's correct
    or wrong answer, chosen by a seeded coin; the label says which."""
    key = {}
    for line in (DATA / "builtin-key.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        key[row["key"]] = (row["correct"], row["wrong"])
    coin = random.Random(2026)
    out = []
    for item in load_suite(DATA / "builtin.jsonl").items:
        correct, wrong = key[prompt_key(item.prompt)]
        right = coin.random() < 0.5
        out.append((item.prompt, correct if right else wrong, item.reference, right))
    return out


async def test_judge_kappa_against_the_hidden_key() -> None:
    env = JudgeEnv({JUDGE: {"judge": ACCURACY}})
    judge = Judge(env.client, JUDGE, "grade-reference")
    gate = asyncio.Semaphore(16)
    sample = _sample()

    async def one(question: str, answer: str, reference: object) -> bool:
        async with gate:
            judged = await judge.grade(question, answer, reference, task="kappa")
        assert not judged.score.error
        assert (judged.score.judge, judged.score.rubric) == (JUDGE, "grade-reference@1")
        assert env.usage.get([judged.usage_record])[judged.usage_record].purpose == \
            "evaluation"
        return judged.score.passed

    try:
        verdicts = await asyncio.gather(*(one(q, a, r) for q, a, r, _ in sample))
    finally:
        await env.aclose()
    labels = [label for *_, label in sample]
    measured = cohen_kappa(labels, list(verdicts))
    n, prevalence = len(labels), sum(labels) / len(labels)
    kappa, chance = expected_kappa(ACCURACY, prevalence)
    sigma = math.sqrt(ACCURACY * (1 - ACCURACY) / (n * (1 - chance) ** 2))  # Cohen (1960)
    assert abs(measured.kappa - kappa) <= 1.96 * sigma, (measured, kappa, sigma)
    assert abs(measured.observed - ACCURACY) <= 1.96 * math.sqrt(ACCURACY * (1 - ACCURACY) / n)
    documented = re.search(r"measured κ = (\d\.\d{3}) \(agreement (\d\.\d{3}), n = (\d+)\)",
                           DOCS.read_text("utf-8"))
    assert documented is not None, "docs/methods/quality-index.md reports the measured κ"
    assert documented.groups() == (f"{measured.kappa:.3f}", f"{measured.observed:.3f}",
                                   str(n)), measured


async def test_pairwise_in_both_orders_through_the_gateway() -> None:
    env = JudgeEnv({JUDGE: {"judge": ACCURACY}})
    judge = Judge(env.client, JUDGE, "pairwise")
    sample = _sample()[:120]
    key = {}
    for line in (DATA / "builtin-key.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        key[row["key"]] = (row["correct"], row["wrong"])
    try:
        results = [await judge.compare(q, *key[prompt_key(q)], task="pair")
                   for q, *_ in sample]
    finally:
        await env.aclose()
    n = len(results)
    both_right = sum(r.winner == "a" for r in results)  # a is the key's correct answer
    expected = ACCURACY ** 2  # right in both orders
    assert abs(both_right / n - expected) <= 1.96 * math.sqrt(expected * (1 - expected) / n)
    assert all(r.winner == "tie" for r in results if not r.consistent)
    assert all(r.consistent == (r.first == r.second) for r in results)
    assert {r.rubric for r in results} == {"pairwise@1"} and {r.judge for r in results} == {
        JUDGE}
    share, decisive, inconsistent = position_bias(results)
    assert decisive == 2 * n  # every verdict of the sim picks one answer
    assert inconsistent == sum(not r.consistent for r in results)
    assert abs(share - 0.5) <= 1.96 * math.sqrt(0.25 / decisive)  # the sim has no position bias
