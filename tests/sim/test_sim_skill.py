"""The sim-provider's skill: on the built-in suite, each simulated model's measured accuracy
per task class lies within the 95 % interval around its configured accuracy; other prompts
get ordinary generated answers."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from simhelpers import call

from ciyuan.quality import get_scorer
from ciyuan.quality.builtin import DATA
from ciyuan.quality.suites import load_suite

SKILLS = {"gpt-4o": {"default": 0.85, "math": 0.95},
          "qwen-plus": {"default": 0.6, "translation": 0.9}}


def _accuracy(app: Any, model: str) -> dict[str, tuple[float, int]]:
    suite = load_suite(DATA / "builtin.jsonl")
    hits: dict[str, list[bool]] = defaultdict(list)
    for item in suite.items:
        response = call(app, "POST", "/v1/chat/completions", {
            "model": model, "max_tokens": 1000,
            "messages": [{"role": "user", "content": item.prompt}]})
        answer = response.json()["choices"][0]["message"]["content"]
        score = get_scorer(item.scorer, **item.options).score(answer, item.reference)
        hits[item.task].append(score.passed)
    return {task: (sum(v) / len(v), len(v)) for task, v in hits.items()}


def test_measured_accuracy_matches_the_configured_skill(app_factory: Any) -> None:
    app = app_factory(models=tuple(SKILLS), skills=SKILLS, seed=11)
    for model, table in SKILLS.items():
        for task, (measured, n) in _accuracy(app, model).items():
            truth = table.get(task, table["default"])
            half = 1.96 * math.sqrt(truth * (1 - truth) / n)
            assert abs(measured - truth) <= half, (model, task, measured, truth, n)


def test_other_prompts_are_answered_as_usual(app_factory: Any) -> None:
    app = app_factory(models=("gpt-4o",), skills=SKILLS)
    response = call(app, "POST", "/v1/chat/completions", {
        "model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me about tokens."}]})
    assert response.status_code == 200
    assert response.json()["usage"]["completion_tokens"] > 0
