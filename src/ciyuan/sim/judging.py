"""The simulated provider as a judge model — a simulation, stated plainly.

When the last user message is a ciyuan judge rubric prompt (first line
``Rubric: ciyuan/<id>@<version>``), a simulated model does not read the answers: it looks the
question up in the hidden answer key (``ciyuan.sim.skill``) and knows the truth — a graded
answer is right exactly when it is the key's correct answer; of two answers the key's correct
one is better, and two equally right (or wrong) answers tie. It then gives the true verdict
with its configured **judge accuracy** and a false one otherwise. Which judgements are right
follows the same equidistributed sequence as the sim's answers (``ciyuan.sim.skill``:
golden-ratio steps from a point drawn from the seed, the model and the task class), indexed
by the item's rank in the key and which answer is graded (or shown first), so over a run of
items the share of right verdicts stays close to the configured accuracy, and a run is
reproducible. Questions the key does not know (live traffic) have no truth: their verdict is
a seeded fair coin.

So a test can measure a judge's agreement with the key honestly: the expected Cohen's κ
follows from the configured accuracy (``ciyuan.quality.agreement.expected_kappa``).
Accuracies come from the ``judge`` entry of ``--skills FILE``
(``{"gpt-4o": {"judge": 0.9}}``) over :data:`DEFAULT_JUDGE_ACCURACY`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ciyuan.quality.builtin import prompt_key
from ciyuan.sim.generate import draw
from ciyuan.sim.skill import AnswerKey, Entry, sequence_point

__all__ = ["DEFAULT_JUDGE_ACCURACY", "DEFAULT_JUDGE_SKILL", "SimJudge"]

#: Judge accuracy of a model that nothing configures.
DEFAULT_JUDGE_SKILL = 0.75
#: Defaults per model: the strong models judge better, as with their answers.
DEFAULT_JUDGE_ACCURACY: dict[str, float] = {"gpt-4o": 0.9, "gpt-4o-mini": 0.75,
                                            "qwen-plus": 0.85, "deepseek-chat": 0.85}
_HEADER = re.compile(r"\ARubric: ciyuan/([a-z0-9-]+)@(\d+)\n")
_OTHER = {"A": "B", "B": "A"}


def _section(text: str, tag: str) -> str | None:
    """The text between ``<tag>\\n`` and ``\\n</tag>`` (the rubric templates' layout)."""
    start = text.find(f"<{tag}>\n")
    end = text.rfind(f"\n</{tag}>")
    if start < 0 or end < start:
        return None
    return text[start + len(tag) + 3:end]


@dataclass(frozen=True)
class SimJudge:
    key: AnswerKey
    accuracy: Mapping[str, Mapping[str, float]]  # the skills table; "judge" per model
    seed: int = 0

    def of(self, model: str) -> float:
        table = self.accuracy.get(model, {})
        return table.get("judge", DEFAULT_JUDGE_ACCURACY.get(model, DEFAULT_JUDGE_SKILL))

    def _right(self, model: str, entry: Entry, variant: int, stream: str) -> bool:
        """Whether judgement ``variant`` (0 or 1) of ``entry`` is right."""
        point = sequence_point(self.seed, model, entry.task, stream, 2 * entry.rank + variant)
        return point < self.of(model)

    def reply(self, model: str, prompt: str) -> str | None:
        """The judge's reply to a rubric prompt; None when ``prompt`` is not one."""
        header = _HEADER.match(prompt)
        question = _section(prompt, "question")
        if header is None or question is None:
            return None
        rng = draw(self.seed, model, "judge", prompt_key(prompt))
        entry = self.key.entries.get(prompt_key(question))
        a, b, answer = (_section(prompt, t) for t in ("answer_a", "answer_b", "answer"))
        if a is not None and b is not None:
            if entry is None:
                verdict = rng.choice(("A", "B", "TIE"))
            else:
                truth_a, truth_b = (x.strip() == entry.correct.strip() for x in (a, b))
                true = "TIE" if truth_a == truth_b else ("A" if truth_a else "B")
                right = self._right(model, entry, int(not truth_a), "judge-pair")
                verdict = true if right else _OTHER.get(true, rng.choice(("A", "B")))
            reason = ("Answer A is more correct." if verdict == "A" else
                      "Answer B is more correct." if verdict == "B" else
                      "Both answers are equally good.")
            return f"{reason}\nVERDICT: {verdict}"
        if answer is None:
            return None
        if entry is None:
            passed = rng.random() < 0.5
        else:
            truth = answer.strip() == entry.correct.strip()
            passed = truth == self._right(model, entry, int(not truth), "judge")
        reason = ("The answer is correct and does what was asked." if passed else
                  "The answer is wrong or does not do what was asked.")
        return f"{reason}\nVERDICT: {'PASS' if passed else 'FAIL'}"
