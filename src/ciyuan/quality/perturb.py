"""Perturbations of an evaluation item's prompt, for robustness: the same question asked
another way must get the same verdict.

Four kinds, each a pure function of the item and a seed (same inputs, same variant):

- ``paraphrase`` — the item is framed by another instruction template in its language
  ("Question: …", "请完成下面的任务。…"); the item's own text is kept word for word, so the
  reference stays right.
- ``typos`` — letters of words are swapped, dropped, doubled or replaced by a keyboard
  neighbour, and Chinese characters doubled or swapped with a neighbour, at ``TYPO_RATE``
  per eligible word or character (at least one when the prompt has any). Digits, code
  identifiers and every word or character that occurs in the reference are never touched,
  so the question keeps its answer.
- ``distractor`` — an irrelevant sentence without numbers, in the item's language, before or
  after the question.
- ``language`` — the instruction wrapper switches language: an English item framed in
  Chinese, a Chinese item in English (the item itself still says what to answer).

:func:`variants` lists an item's variants for kinds × seeds; ``ciyuan eval run --perturb``
runs them (ciyuan.quality.robustness). A variant's id is ``<item>~<kind>.<seed>``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ciyuan.quality.errors import QualityError
from ciyuan.quality.suites import Item

__all__ = ["KINDS", "RESAMPLE", "TYPO_RATE", "Variant", "perturb", "split_variant_id",
           "variants"]

KINDS = ("paraphrase", "typos", "distractor", "language")
#: The kind of a variant that repeats the item unchanged under another sampling seed.
RESAMPLE = "resample"
#: Share of eligible words (Latin) or characters (CJK) a typo touches: about one word in
#: twelve, the rate of a hurried typist, enough to break exact matching of the prompt.
TYPO_RATE = 0.08
#: Characters of the prompt at most that a typo pass looks at (bounds the work per item).
MAX_PROMPT_CHARS = 20_000

_PARAPHRASE = {
    "en": ("Question: {p}", "Please answer the following.\n\n{p}", "Here is a task for you. {p}",
           "{p}\n\nAnswer exactly what is asked.", "I need help with this: {p}",
           "Task:\n{p}"),
    "zh": ("问题：{p}", "请完成下面的任务。\n\n{p}", "这里有一个任务：{p}",
           "{p}\n\n请准确回答所问的内容。", "帮我解决这个问题：{p}", "任务：\n{p}"),
}
_SWITCHED = {  # the other language's wrapper; the item says what language to answer in
    "en": ("请回答下面的问题：\n\n{p}", "下面是一个任务，请完成它。\n\n{p}"),
    "zh": ("Please answer the following:\n\n{p}", "Here is a task; please complete it.\n\n{p}"),
}
_DISTRACTORS = {
    "en": ("The office coffee machine was repaired last week.",
           "Note that the weather in the city has been unusually mild.",
           "Our team recently moved to a new floor of the building.",
           "Some colleagues prefer tea to coffee in the afternoon.",
           "The quarterly newsletter will be sent out soon."),
    "zh": ("办公室的咖啡机上周修好了。", "最近城里的天气格外暖和。",
           "我们团队最近搬到了大楼的新楼层。", "有些同事下午更喜欢喝茶。",
           "季度简报很快就会发出。"),
}
_NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", ("wa", "qes", "wrd", "etf", "ryg", "tuh",
                   "yij", "uok", "ipl", "ol", "qsz", "adx", "sfc", "dgv", "fhb", "gjn", "hkm",
                   "jl", "kp", "ax", "zsc", "xdv", "cfb", "vgn", "bhm", "nj"), strict=True))
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\(|\b)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Variant:
    item: Item  # the variant, as an item of its own (id ``<original>~<kind>.<seed>``)
    original: str
    kind: str
    seed: int


def _language(item: Item) -> str:
    return "zh" if item.language == "zh" else "en"


def _protected(item: Item) -> tuple[set[str], set[str]]:
    """Words (lower case) and CJK characters of the reference: typos leave them alone."""
    text = json.dumps(item.reference, ensure_ascii=False) if not isinstance(
        item.reference, str) else item.reference
    return ({w.lower() for w in re.findall(r"[A-Za-z_]+", text)}, set(_CJK.findall(text)))


def _typo_word(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)  # never the first letter
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap with the next letter
    if op == 1:
        return word[:i] + word[i + 1:]  # drop
    if op == 2:
        return word[:i] + word[i] + word[i:]  # double
    near = _NEIGHBOURS.get(word[i].lower(), word[i])
    return word[:i] + rng.choice(near) + word[i + 1:]  # a keyboard neighbour


def _typos(item: Item, rng: random.Random) -> str:
    words, chars = _protected(item)
    text = item.prompt[:MAX_PROMPT_CHARS]
    spots = [(m.start(), m.end()) for m in _WORD.finditer(text)
             if m.group(0).isalpha() and m.group(0).isascii() and len(m.group(0)) >= 4
             and m.group(0).lower() not in words]
    spots += [(i, i + 1) for i, c in enumerate(text) if _CJK.fullmatch(c) and c not in chars]
    if not spots:
        return item.prompt
    count = max(1, sum(rng.random() < TYPO_RATE for _ in spots))
    for start, end in sorted(rng.sample(spots, count), reverse=True):  # right to left
        if end - start > 1:
            piece = _typo_word(text[start:end], rng)
        elif rng.random() < 0.5 or start == 0 or not _CJK.fullmatch(text[start - 1]) \
                or text[start - 1] in chars:
            piece = text[start] * 2  # a doubled character
        else:  # swapped with the one before
            start, piece = start - 1, text[start] + text[start - 1]
        text = text[:start] + piece + text[end:]
    return text + item.prompt[MAX_PROMPT_CHARS:]


def perturb(item: Item, kind: str, seed: int) -> str:
    """The prompt of ``item`` perturbed by ``kind`` with ``seed``."""
    rng = random.Random(f"{seed}:{kind}:{item.id}")
    lang = _language(item)
    if kind == "paraphrase":
        return rng.choice(_PARAPHRASE[lang]).format(p=item.prompt)
    if kind == "typos":
        return _typos(item, rng)
    if kind == "distractor":
        sentence = rng.choice(_DISTRACTORS[lang])
        gap = "" if lang == "zh" else " "
        return (f"{sentence}{gap}{item.prompt}" if rng.random() < 0.5
                else f"{item.prompt}{gap}{sentence}")
    if kind == "language":
        return rng.choice(_SWITCHED[lang]).format(p=item.prompt)
    if kind == RESAMPLE:
        return item.prompt
    raise QualityError(f"unknown perturbation {kind!r}: use {', '.join(KINDS)}", field="perturb")


def split_variant_id(variant_id: str) -> tuple[str, str, int] | None:
    """(original item, kind, seed) of a variant id; None for an original item's id."""
    original, sep, rest = variant_id.rpartition("~")
    kind, dot, seed = rest.rpartition(".")
    if not sep or not dot or not seed.isdigit():
        return None
    return original, kind, int(seed)


def variants(items: Iterable[Item], kinds: Iterable[str], seeds: int) -> list[Variant]:
    """Every item × kind × seed (0 … seeds-1), plus the item itself resampled under seeds
    1 … seeds-1 (robustness across sampling seeds)."""
    kinds = tuple(kinds)
    for kind in kinds:
        if kind not in KINDS:
            raise QualityError(f"unknown perturbation {kind!r}: use {', '.join(KINDS)}",
                               field="perturb")
    out = []
    for item in items:
        for seed in range(seeds):
            for kind in (*kinds, RESAMPLE) if seed else kinds:
                prompt = perturb(item, kind, seed)
                derived = Item(f"{item.id}~{kind}.{seed}", item.task, item.language, prompt,
                               item.reference, item.scorer, item.options)
                out.append(Variant(derived, item.id, kind, seed))
    return out
