"""LLM-as-judge: a judge model, called through the ciyuan gateway, grades answers by a rubric.

Every judge call is an OpenAI-compatible chat call through the gateway with the caller's key
and ``x-ciyuan-purpose: evaluation``, so it is authenticated, held against budgets, metered
and billed like any call. Every score a judge gives carries the judge model and the rubric's
``id@version``; a reply without the rubric's verdict line is a scorer error, never a zero.

- :meth:`Judge.grade` — one answer, PASS (1) or FAIL (0), against a reference
  (``grade-reference``) or without one (``grade-answer``).
- :meth:`Judge.compare` — two answers, run in both orders (A then B, B then A). Verdicts that
  agree decide; verdicts that disagree are a tie, and :func:`position_bias` reports how often
  the answer shown first won, so a judge's taste for a position is visible.

The ``judge`` scorer in the registry stands for items a judge must grade; it cannot score on
its own (``ciyuan eval run --judge MODEL`` grades them), so a suite naming it still loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ciyuan.core.records import RECORD_HEADER
from ciyuan.quality.errors import QualityError
from ciyuan.quality.rubrics import JudgeVerdictError, Rubric, load_rubric, parse_verdict
from ciyuan.quality.scorers import Score, register

if TYPE_CHECKING:
    import openai

__all__ = ["JUDGE_MAX_TOKENS", "Comparison", "Judge", "JudgeScorer", "Judgement",
           "position_bias"]

#: Output tokens a judge reply may take: the rubrics ask for three sentences and a verdict
#: line (~100 tokens), and reasoning models spend up to ~1k hidden tokens before answering;
#: 2048 leaves room for both without letting one judge call run away.
JUDGE_MAX_TOKENS = 2048
Winner = Literal["a", "b", "tie"]
_SWAP = {"A": "B", "B": "A", "TIE": "TIE"}


@dataclass(frozen=True)
class Judgement:
    """One graded answer: the score (judge and rubric in it) and the judge call's record."""

    score: Score
    usage_record: str
    reply: str


@dataclass(frozen=True)
class Comparison:
    """Answer a vs answer b, judged in both orders."""

    winner: Winner  # "tie" also when the two orders disagree
    consistent: bool
    first: str  # verdict with a shown first: A, B or TIE
    second: str  # verdict with b shown first, in a/b terms (A means a won)
    judge: str
    rubric: str
    usage_records: tuple[str, str]


def position_bias(comparisons: Iterable[Comparison]) -> tuple[float, int, int]:
    """(share of decisive verdicts that chose the answer shown first, decisive verdicts,
    inconsistent comparisons). An unbiased judge's share is near 0.5."""
    first_won = decisive = inconsistent = 0
    for c in comparisons:
        inconsistent += not c.consistent
        for shown_first, verdict in (("A", c.first), ("B", c.second)):
            if verdict != "TIE":
                decisive += 1
                first_won += verdict == shown_first
    return (first_won / decisive if decisive else 0.5), decisive, inconsistent


def _text(reference: Any) -> str:
    return reference if isinstance(reference, str) else json.dumps(reference,
                                                                    ensure_ascii=False)


class Judge:
    """A judge model and a rubric, over an ``openai.AsyncOpenAI`` client of the gateway."""

    def __init__(self, client: openai.AsyncOpenAI, model: str, rubric: Rubric | str,
                 *, headers: Mapping[str, str] | None = None) -> None:
        self.client = client
        self.model = model
        self.rubric = load_rubric(rubric) if isinstance(rubric, str) else rubric
        self.headers = dict(headers or {})

    async def _ask(self, user: str, task: str) -> tuple[str, str]:
        """The judge's reply and its usage record (API errors propagate to the caller)."""
        raw = await self.client.chat.completions.with_raw_response.create(
            model=self.model, max_tokens=JUDGE_MAX_TOKENS, temperature=0,
            messages=[{"role": "system", "content": self.rubric.system},
                      {"role": "user", "content": user}],
            extra_headers={**self.headers, "x-ciyuan-purpose": "evaluation",
                           "x-ciyuan-task": task[:200]})
        response = raw.parse()
        return (response.choices[0].message.content or "",
                raw.headers.get(RECORD_HEADER, ""))

    async def grade(self, question: str, answer: str, reference: Any = None,
                    task: str = "judge") -> Judgement:
        """PASS/FAIL of ``answer``; a malformed verdict is a score with an error."""
        if self.rubric.kind != "single":
            raise QualityError(f"rubric {self.rubric.ref} compares two answers; grade with "
                               "grade-reference or grade-answer", rubric=self.rubric.ref)
        fields = {"question": question, "answer": answer}
        if reference is not None:
            fields["reference"] = _text(reference)
        prompt = self.rubric.render(**fields)
        reply, record = await self._ask(prompt, task)
        try:
            verdict = parse_verdict(self.rubric, reply)
        except JudgeVerdictError as exc:
            return Judgement(Score("judge", 0.0, False, error=exc.message[:500],
                                   judge=self.model, rubric=self.rubric.ref), record, reply)
        passed = verdict == "PASS"
        return Judgement(Score("judge", float(passed), passed, detail=f"judge: {verdict}",
                               judge=self.model, rubric=self.rubric.ref), record, reply)

    async def compare(self, question: str, answer_a: str, answer_b: str,
                      task: str = "judge-pair") -> Comparison:
        """a vs b in both orders; raises JudgeVerdictError if either reply is malformed."""
        if self.rubric.kind != "pairwise":
            raise QualityError(f"rubric {self.rubric.ref} grades one answer; compare with "
                               "pairwise", rubric=self.rubric.ref)
        one, first_record = await self._ask(self.rubric.render(
            question=question, answer_a=answer_a, answer_b=answer_b), task)
        two, second_record = await self._ask(self.rubric.render(
            question=question, answer_a=answer_b, answer_b=answer_a), task)
        first = parse_verdict(self.rubric, one)
        second = _SWAP[parse_verdict(self.rubric, two)]
        consistent = first == second
        winners: dict[str, Winner] = {"A": "a", "B": "b", "TIE": "tie"}
        winner = winners[first] if consistent else "tie"
        return Comparison(winner, consistent, first, second, self.model, self.rubric.ref,
                          (first_record, second_record))


@register("judge")
@dataclass(frozen=True)
class JudgeScorer:
    """Items graded by a judge model (``options: {"rubric": "grade-reference"}``)."""

    rubric: str = "grade-reference"
    name: str = "judge"

    def __post_init__(self) -> None:
        try:
            loaded = load_rubric(self.rubric)
        except QualityError as exc:  # suites report option errors raised as TypeError
            raise TypeError(exc.message) from None
        if loaded.kind != "single":
            raise TypeError(f"rubric {loaded.ref} compares two answers; a suite item is "
                            "graded with grade-reference or grade-answer")

    def score(self, answer: str, reference: Any) -> Score:
        raise QualityError("this item is graded by a judge model: run `ciyuan eval run "
                           "--judge MODEL`", scorer=self.name)
