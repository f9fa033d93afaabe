"""Recognising an evaluation item in a perturbed prompt (for the sim's skill).

A robustness run asks each item again with its prompt reworded, framed in the other
language, padded with a distractor or sprinkled with typos (ciyuan.quality.perturb). The
simulated model must still know which item it is being asked, as a real model would. The
index reads text as a person skims it: Chinese by its characters (a doubled or swapped
character leaves the set of characters as it was), other text by letter trigrams (a typo
breaks only the three around it). Each feature weighs by how rare it is among the prompts
(inverse document frequency: the numbers and names that tell templated items apart count,
the template's words hardly). An item is found when the text holds at least ``MIN_SCORE``
of its prompt's weight, strictly more than any other item's, and is not much longer than
the prompt (so a long chat that quotes an item is not taken for it).

Lookups start from the trigrams that few prompts share, so ordinary chat traffic costs one
dictionary lookup per trigram of the message.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["MAX_EXTRA_CHARS", "MIN_SCORE", "PromptIndex", "features"]

#: Share of an item's feature weight a text must hold to be taken for the item. Measured on
#: the built-in suite: every variant of kinds × 3 seeds holds >= 0.70 of its own item's
#: weight; unrelated chat reaches 0.15, a chat on a suite template ("Translate into Chinese:
#: good morning") 0.53.
MIN_SCORE = 0.65
#: Characters a text may have beyond the item's prompt (wrappers and distractors add < 200).
MAX_EXTRA_CHARS = 300
#: A feature found in more prompts than this does not pick candidates (it still counts).
RARE_MAX = 8
#: Candidates scored in full per lookup.
MAX_CANDIDATES = 16
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def features(text: str) -> set[str]:
    """The CJK characters of ``text`` and the letter trigrams of the rest."""
    normal = _normal(text)
    found = set(_CJK.findall(normal))
    latin = _CJK.sub("\0", normal)
    found.update(latin[i:i + 3] for i in range(len(latin) - 2) if "\0" not in latin[i:i + 3])
    return found


@dataclass(frozen=True)
class PromptIndex:
    grams: Mapping[str, frozenset[str]]  # key -> the features of its prompt
    weight: Mapping[str, float]  # feature -> log(prompts / prompts holding it)
    totals: Mapping[str, float]  # key -> the weight of all its features
    lengths: Mapping[str, int]  # key -> its normalised prompt's length
    rare: Mapping[str, tuple[str, ...]]  # feature -> the keys of the few prompts holding it

    @classmethod
    def build(cls, prompts: Mapping[str, str]) -> PromptIndex:
        """The index of ``prompts`` (key -> prompt)."""
        grams = {key: frozenset(features(p)) for key, p in prompts.items()}
        holders: dict[str, list[str]] = {}
        for key, own in grams.items():
            for gram in own:
                holders.setdefault(gram, []).append(key)
        weight = {g: math.log(len(grams) / len(keys)) for g, keys in holders.items()}
        totals = {k: math.fsum(weight[g] for g in own) for k, own in grams.items()}
        rare = {g: tuple(keys) for g, keys in holders.items() if len(keys) <= RARE_MAX}
        return cls(grams, weight, totals, {k: len(_normal(p)) for k, p in prompts.items()},
                   rare)

    def find(self, text: str) -> str | None:
        """The key of the item ``text`` asks, or None."""
        seen = features(text)
        votes: Counter[str] = Counter()
        for gram in seen:
            for key in self.rare.get(gram, ()):
                votes[key] += 1
        size = len(_normal(text))
        best, best_score, second = None, 0.0, 0.0
        for key, _ in votes.most_common(MAX_CANDIDATES):
            if size > self.lengths[key] + MAX_EXTRA_CHARS or not self.totals[key]:
                continue
            score = math.fsum(self.weight[g] for g in self.grams[key] & seen) / self.totals[key]
            if score > best_score:
                best, best_score, second = key, score, best_score
            elif score > second:
                second = score
        if best is None or best_score < MIN_SCORE or best_score == second:
            return None
        return best
