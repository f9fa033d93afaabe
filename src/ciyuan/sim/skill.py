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

Robustness: a prompt that is an item's perturbed variant (ciyuan.quality.perturb) is
recognised by :class:`ciyuan.sim.recognise.PromptIndex` over the key's prompts, and so is an
item asked with a sampling ``seed``. The model first settles its answer to the item as above,
then flips it (right to wrong, wrong to right) with its configured **flip rate** — the
``flip`` entry of ``--skills FILE`` (``{"gpt-4o": {"flip": 0.04}}``) over
:data:`DEFAULT_FLIP_RATES` — drawn independently per variant from the sim's seed, the model,
the variant's text and the request's seed. With *V* variants per item the expected share of
items answered alike under all of them is ``(1 - flip) ** V``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ciyuan.quality.builtin import prompt_key
from ciyuan.sim.errors import SimConfigError
from ciyuan.sim.generate import draw
from ciyuan.sim.recognise import PromptIndex

__all__ = ["DEFAULT_FLIP_RATE", "DEFAULT_FLIP_RATES", "DEFAULT_SKILL", "DEFAULT_SKILLS",
           "AnswerKey", "Skills", "load_skills", "sequence_point"]

#: Accuracy of a model that nothing configures.
DEFAULT_SKILL = 0.5
#: Defaults per model and task class ("default" covers the classes not named).
DEFAULT_SKILLS: dict[str, dict[str, float]] = {
    "gpt-4o": {"default": 0.85, "code": 0.9, "math": 0.88, "translation": 0.8},
    "gpt-4o-mini": {"default": 0.7, "code": 0.72, "math": 0.65},
    "qwen-plus": {"default": 0.78, "translation": 0.9, "customer_service": 0.85},
    "deepseek-chat": {"default": 0.8, "code": 0.88, "math": 0.9},
}

#: Probability that a model nothing configures flips its answer under a perturbation.
DEFAULT_FLIP_RATE = 0.1
#: Flip rates of the demo's models: the stronger models are also the steadier ones.
DEFAULT_FLIP_RATES: dict[str, float] = {"gpt-4o": 0.04, "gpt-4o-mini": 0.12,
                                        "qwen-plus": 0.08, "deepseek-chat": 0.06}


#: The golden-ratio step of the equidistributed sequence.
_STEP = (math.sqrt(5) - 1) / 2


def sequence_point(seed: int, model: str, task: str, stream: str, index: int) -> float:
    """Point ``index`` in [0, 1) of the equidistributed sequence of (seed, model, task, stream):
    golden-ratio steps from a start drawn from them."""
    start = draw(seed, model, task, stream).random()
    return (start + index * _STEP) % 1.0


@dataclass(frozen=True)
class Entry:
    task: str
    correct: str
    wrong: str
    rank: int  # its position among the key's items of the same task class


@dataclass(frozen=True)
class AnswerKey:
    entries: Mapping[str, Entry]
    prompts: Mapping[str, str] = field(default_factory=dict)  # key -> prompt, to recognise
    # perturbed prompts (the built-in suite's; a key file's optional "prompt" fields)

    @classmethod
    def builtin(cls) -> AnswerKey:
        data = resources.files("ciyuan.quality").joinpath("data")
        key = cls.parse(data.joinpath("builtin-key.jsonl").read_text("utf-8"),
                        "the built-in key")
        prompts = {}
        for line in data.joinpath("builtin.jsonl").read_text("utf-8").splitlines()[1:]:
            prompt = json.loads(line)["prompt"]
            prompts[prompt_key(prompt)] = prompt
        return cls(key.entries, {k: p for k, p in prompts.items() if k in key.entries})

    @functools.cached_property
    def index(self) -> PromptIndex:
        return PromptIndex.build(self.prompts)

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
        entries, prompts = {}, {}
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
                if isinstance(raw.get("prompt"), str):
                    prompts[str(raw["key"])] = raw["prompt"]
            except (ValueError, KeyError, TypeError):
                raise SimConfigError(f"{where}:{number}: an answer-key line is "
                                     '{"key", "task", "correct", "wrong"}',
                                     option="--answer-key") from None
        return cls(entries, prompts)


@dataclass(frozen=True)
class Skills:
    key: AnswerKey
    accuracy: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_SKILLS)
    seed: int = 0

    def of(self, model: str, task: str) -> float:
        table = self.accuracy.get(model, {})
        return table.get(task, table.get("default", DEFAULT_SKILL))

    def flip_rate(self, model: str) -> float:
        """The probability that ``model`` flips its answer to a perturbed item."""
        return self.accuracy.get(model, {}).get(
            "flip", DEFAULT_FLIP_RATES.get(model, DEFAULT_FLIP_RATE))

    def answer(self, model: str, prompt: str, seed: int | None = None) -> str | None:
        """The answer to an evaluation item's prompt (or a perturbed variant of it, or the
        item asked with a sampling ``seed``); None when it is not an item."""
        key = prompt_key(prompt)
        entry = self.key.entries.get(key)
        variant = seed is not None
        if entry is None:
            found = self.key.index.find(prompt) if self.key.prompts else None
            if found is None:
                return None
            key, entry, variant = found, self.key.entries[found], True
        point = sequence_point(self.seed, model, entry.task, "skill", entry.rank)
        right = point < self.of(model, entry.task)
        if variant and draw(self.seed, model, key, "flip", prompt,
                            str(seed)).random() < self.flip_rate(model):
            right = not right
        return entry.correct if right else entry.wrong


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
