"""Skill: how often a simulated model answers an evaluation item correctly.

The sim-provider holds a hidden answer key (by default the built-in suite's,
``ciyuan/quality/data/builtin-key.jsonl``): for every item, by the SHA-256 of its prompt, one
correct and one wrong answer. When the last user message of a chat is an item's prompt, the
model answers correctly with its configured accuracy for the item's task class, else wrongly;
any other message gets the usual generated text. Which items a model gets right follows an
equidistributed sequence over the task class's items (the golden-ratio sequence, started at a
point drawn from the sim's seed and the model): a run is reproducible, the items a model gets
wrong differ from model to model, and over any run of items the share it gets right stays
within about one item of its configured accuracy — so measured accuracy estimates the truth
without the noise of independent coin flips.

Accuracies come from ``--skills FILE`` (JSON: ``{"gpt-4o": {"math": 0.9, "default": 0.8}}``)
over the defaults below, which give the demo's models a visible price-performance spread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ciyuan.quality.builtin import prompt_key
from ciyuan.sim.errors import SimConfigError
from ciyuan.sim.generate import draw

__all__ = ["DEFAULT_SKILL", "DEFAULT_SKILLS", "AnswerKey", "Skills", "load_skills"]

#: Accuracy of a model that nothing configures.
DEFAULT_SKILL = 0.5
#: Defaults per model and task class ("default" covers the classes not named).
DEFAULT_SKILLS: dict[str, dict[str, float]] = {
    "gpt-4o": {"default": 0.85, "code": 0.9, "math": 0.88, "translation": 0.8},
    "gpt-4o-mini": {"default": 0.7, "code": 0.72, "math": 0.65},
    "qwen-plus": {"default": 0.78, "translation": 0.9, "customer_service": 0.85},
    "deepseek-chat": {"default": 0.8, "code": 0.88, "math": 0.9},
}


#: The golden-ratio step of the equidistributed sequence.
_STEP = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class Entry:
    task: str
    correct: str
    wrong: str
    rank: int  # its position among the key's items of the same task class


@dataclass(frozen=True)
class AnswerKey:
    entries: Mapping[str, Entry]

    @classmethod
    def builtin(cls) -> AnswerKey:
        text = resources.files("ciyuan.quality").joinpath("data", "builtin-key.jsonl")
        return cls.parse(text.read_text("utf-8"), "the built-in key")

    @classmethod
    def load(cls, path: Path) -> AnswerKey:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise SimConfigError(f"--answer-key {path}: {exc.strerror}",
                                 option="--answer-key") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, where: str) -> AnswerKey:
        entries = {}
        ranks: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                task = str(raw["task"])
                ranks[task] = ranks.get(task, -1) + 1
                entries[str(raw["key"])] = Entry(task, str(raw["correct"]), str(raw["wrong"]),
                                                 ranks[task])
            except (ValueError, KeyError, TypeError):
                raise SimConfigError(f"{where}:{number}: an answer-key line is "
                                     '{"key", "task", "correct", "wrong"}',
                                     option="--answer-key") from None
        return cls(entries)


@dataclass(frozen=True)
class Skills:
    key: AnswerKey
    accuracy: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_SKILLS)
    seed: int = 0

    def of(self, model: str, task: str) -> float:
        table = self.accuracy.get(model, {})
        return table.get(task, table.get("default", DEFAULT_SKILL))

    def answer(self, model: str, prompt: str) -> str | None:
        """The answer to an evaluation item's prompt; None when it is not an item."""
        entry = self.key.entries.get(prompt_key(prompt))
        if entry is None:
            return None
        start = draw(self.seed, model, entry.task, "skill").random()
        point = (start + entry.rank * _STEP) % 1.0
        return entry.correct if point < self.of(model, entry.task) else entry.wrong


def load_skills(path: Path | None) -> dict[str, dict[str, float]]:
    """The default accuracies with ``--skills FILE`` on top."""
    table = {m: dict(t) for m, t in DEFAULT_SKILLS.items()}
    if path is None:
        return table
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise SimConfigError(f"--skills {path}: {exc}", option="--skills") from None
    if not isinstance(raw, dict):
        raise SimConfigError(f"--skills {path}: expected {{model: {{task: accuracy}}}}",
                             option="--skills")
    for model, tasks in raw.items():
        if not isinstance(tasks, dict) or not all(
                isinstance(v, int | float) and 0 <= v <= 1 for v in tasks.values()):
            raise SimConfigError(f"--skills {path}: {model}: accuracies are numbers in [0, 1]",
                                 option="--skills")
        table.setdefault(model, {}).update({t: float(v) for t, v in tasks.items()})
    return table
