"""The sim-provider as a judge: verdicts on rubric prompts are right at each model's configured
judge accuracy (per the hidden key), reproducible, and always in the rubric's strict format."""

from __future__ import annotations

import json
import math
from typing import Any

from simhelpers import call

from ciyuan.quality.builtin import DATA
from ciyuan.quality.rubrics import load_rubric, parse_verdict
from ciyuan.sim.judging import DEFAULT_JUDGE_ACCURACY, DEFAULT_JUDGE_SKILL, SimJudge
from ciyuan.sim.skill import AnswerKey

KEY_ROWS = [json.loads(line) for line in
            (DATA / "builtin-key.jsonl").read_text("utf-8").splitlines()]


def _judge(app: Any, model: str, prompt: str) -> str:
    response = call(app, "POST", "/v1/chat/completions", {
        "model": model, "max_tokens": 2048, "messages": [
            {"role": "system", "content": "grader"}, {"role": "user", "content": prompt}]})
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["completion_tokens"] > 0
    return str(response.json()["choices"][0]["message"]["content"])


def test_verdicts_are_right_at_the_configured_judge_accuracy(app_factory: Any) -> None:
    accuracy = {"gpt-4o": 0.9, "qwen-plus": 0.6}
    app = app_factory(models=tuple(accuracy), seed=3,
                      skills={m: {"judge": a} for m, a in accuracy.items()})
    rubric = load_rubric("grade-answer")
    prompts = {m: {} for m in accuracy}  # type: dict[str, dict[str, tuple[str, bool]]]
    for n, row in enumerate(KEY_ROWS):
        good = n % 2 == 0
        question = next(i for i in _items() if i[0] == row["id"])[1]
        prompts_for = rubric.render(question=question,
                                    answer=row["correct"] if good else row["wrong"])
        for model in accuracy:
            prompts[model][row["id"]] = (prompts_for, good)
    for model, truth in accuracy.items():
        right = sum((parse_verdict(rubric, _judge(app, model, p)) == "PASS") == good
                    for p, good in prompts[model].values())
        n = len(prompts[model])
        assert abs(right / n - truth) <= 1.96 * math.sqrt(truth * (1 - truth) / n), model
    again = next(iter(prompts["gpt-4o"].values()))[0]
    assert _judge(app, "gpt-4o", again) == _judge(app, "gpt-4o", again)  # reproducible


def _items() -> list[tuple[str, str]]:
    rows = (DATA / "builtin.jsonl").read_text("utf-8").splitlines()[1:]
    return [(r["id"], r["prompt"]) for r in map(json.loads, rows)]


def test_unknown_questions_and_ties_still_get_strict_verdicts() -> None:
    judge = SimJudge(AnswerKey.builtin(), {})
    single, pair = load_rubric("grade-answer"), load_rubric("pairwise")
    for n in range(20):
        reply = judge.reply("gpt-4o", single.render(question=f"what is {n}?", answer="x"))
        assert reply is not None and parse_verdict(single, reply) in ("PASS", "FAIL")
    row = KEY_ROWS[0]
    question = _items()[0][1]
    same = judge.reply("gpt-4o", pair.render(question=question, answer_a=row["correct"],
                                             answer_b=row["correct"]))
    assert same is not None and parse_verdict(pair, same) in ("A", "B", "TIE")
    assert judge.reply("gpt-4o", "Tell me about tokens.") is None  # not a rubric
    assert judge.of("gpt-4o") == DEFAULT_JUDGE_ACCURACY["gpt-4o"]
    assert judge.of("unknown-model") == DEFAULT_JUDGE_SKILL
