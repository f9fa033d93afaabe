"""Scorers on plain-text answers: exact match, numbers, multiple choice, token F1, regex.

Normalization (for exact match and F1) is the SQuAD evaluation's, extended to Chinese:
Unicode NFKC (full-width to half-width), lower case, punctuation of every script removed,
English articles dropped, whitespace collapsed. F1 counts words for Latin text and single
characters for CJK text, the usual practice for Chinese reading-comprehension sets (CMRC).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ciyuan.quality.errors import QualityError
from ciyuan.quality.scorers import Score, register

__all__ = ["Completeness", "ExactMatch", "MultipleChoice", "NumericMatch", "RegexMatch",
           "TokenF1",
           "extract_choice", "extract_number", "normalize", "tokens"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CJK_CLASS = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
#: One CJK character, or a run of anything else.
_PIECES = re.compile(f"[{_CJK_CLASS}]|[^{_CJK_CLASS}]+")
_NUMBER = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?%?")
_CHOICE_PATTERNS = (
    re.compile(r"(?:answer|choice|option)\s*(?:is|:)?\s*\(?([A-J])\)?\b", re.I),
    re.compile(r"(?:答案|选项|选择)\s*(?:是|为|：|:)?\s*\(?([A-J])\)?"),
    re.compile(r"^\s*\(?([A-J])\)?(?:[.):：]|$)"),
    re.compile(r"\(([A-J])\)"),
)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words of Latin text, single characters of CJK text."""
    return [piece for word in normalize(text).split() for piece in _PIECES.findall(word)]


def _references(reference: Any) -> list[str]:
    if isinstance(reference, str):
        return [reference]
    if isinstance(reference, Sequence) and reference and all(isinstance(r, str)
                                                              for r in reference):
        return list(reference)
    raise QualityError("the reference must be a string or a list of accepted strings",
                       field="reference")


@register("exact")
@dataclass(frozen=True)
class ExactMatch:
    """1 when the normalized answer equals a normalized reference (any of a list)."""

    normalized: bool = True
    name: str = "exact"

    def score(self, answer: str, reference: Any) -> Score:
        prep = normalize if self.normalized else str.strip
        hit = prep(answer) in {prep(r) for r in _references(reference)}
        return Score(self.name, 1.0 if hit else 0.0, hit)


def extract_number(text: str) -> Fraction | None:
    """The last number in ``text`` (thousands separators, decimals, fractions, percent)."""
    found = _NUMBER.findall(unicodedata.normalize("NFKC", text))
    if not found:
        return None
    raw = found[-1].replace(",", "").replace("−", "-").replace(" ", "")
    percent = raw.endswith("%")
    raw = raw.rstrip("%")
    try:
        value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        return None
    return value / 100 if percent else value


@register("numeric")
@dataclass(frozen=True)
class NumericMatch:
    """1 when the answer's last number is within ``rel_tol`` / ``abs_tol`` of the reference."""

    rel_tol: float = 1e-6
    abs_tol: float = 0.0
    name: str = "numeric"

    def score(self, answer: str, reference: Any) -> Score:
        expected = extract_number(str(reference))
        if expected is None:
            raise QualityError(f"the reference {reference!r} holds no number", field="reference")
        got = extract_number(answer)
        if got is None:
            return Score(self.name, 0.0, False, "no number in the answer")
        tolerance = max(abs(float(expected)) * self.rel_tol, self.abs_tol)
        hit = abs(float(got - expected)) <= tolerance
        return Score(self.name, 1.0 if hit else 0.0, hit, f"answer {float(got):g}")


def extract_choice(text: str) -> str | None:
    """The option letter an answer picks, or None when it names none (or several)."""
    text = unicodedata.normalize("NFKC", text)
    for pattern in _CHOICE_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1).upper()
    letters = set(re.findall(r"\b([A-J])\b", text))
    return letters.pop() if len(letters) == 1 else None


@register("choice")
@dataclass(frozen=True)
class MultipleChoice:
    """1 when the option the answer picks is the reference letter."""

    name: str = "choice"

    def score(self, answer: str, reference: Any) -> Score:
        picked = extract_choice(answer)
        hit = picked is not None and picked == str(reference).strip().upper()
        return Score(self.name, 1.0 if hit else 0.0, hit, f"picked {picked or 'nothing'}")


def _f1(answer: list[str], reference: list[str]) -> float:
    common = sum((Counter(answer) & Counter(reference)).values())
    if not answer or not reference:
        return float(answer == reference)
    if common == 0:
        return 0.0
    precision, recall = common / len(answer), common / len(reference)
    return 2 * precision * recall / (precision + recall)


@register("f1")
@dataclass(frozen=True)
class TokenF1:
    """Token F1 against the best of the references; passes at ``threshold``."""

    threshold: float = 0.5
    name: str = "f1"

    def score(self, answer: str, reference: Any) -> Score:
        got = tokens(answer)
        best = max(_f1(got, tokens(r)) for r in _references(reference))
        return Score(self.name, best, best >= self.threshold, f"f1 {best:.3f}")


@register("regex")
@dataclass(frozen=True)
class RegexMatch:
    """1 when the reference pattern matches somewhere in the answer."""

    ignore_case: bool = True
    name: str = "regex"

    def score(self, answer: str, reference: Any) -> Score:
        try:
            pattern = re.compile(str(reference), re.I if self.ignore_case else 0)
        except re.error as exc:
            raise QualityError(f"the reference pattern does not compile: {exc}",
                               field="reference") from None
        hit = pattern.search(answer) is not None
        return Score(self.name, 1.0 if hit else 0.0, hit)


@register("completeness")
@dataclass(frozen=True)
class Completeness:
    """The share of required points the answer covers; passes at ``threshold``.

    The reference is a list of points; a point is a phrase, or a list of phrases any of which
    covers it (synonyms, the other language). With ``match = "phrase"`` (the default) a
    phrase covers a point when its normalized form occurs in the normalized answer (so
    Chinese needs no word boundaries); with ``match = "similarity"`` when some sentence of
    the answer reaches ``point_threshold`` cosine against it (ciyuan.quality.semantic).
    """

    threshold: float = 1.0
    match: str = "phrase"
    point_threshold: float | None = None  # similarity only; None: semantic.POINT_THRESHOLD
    model_dir: str | None = None  # similarity only; None: the packaged embedding model
    name: str = "completeness"

    def __post_init__(self) -> None:
        if self.match not in ("phrase", "similarity"):
            raise QualityError(f"completeness match {self.match!r}: use phrase or similarity",
                               field="match")

    def _covered(self, answer: str, points: Sequence[Any]) -> list[bool]:
        if self.match == "similarity":
            from ciyuan.quality.semantic import POINT_THRESHOLD, points_covered

            bar = POINT_THRESHOLD if self.point_threshold is None else self.point_threshold
            return points_covered(answer, points, bar, self.model_dir)
        text = normalize(answer)
        return [any(normalize(x) in text for x in _references(p)) for p in points]

    def score(self, answer: str, reference: Any) -> Score:
        if isinstance(reference, str) or not isinstance(reference, Sequence) or not reference:
            raise QualityError("a completeness reference is a non-empty list of points",
                               field="reference")
        covered = self._covered(answer, reference)
        missing = [p if isinstance(p, str) else p[0]
                   for p, hit in zip(reference, covered, strict=True) if not hit]
        share = 1 - len(missing) / len(reference)
        detail = "all points covered" if not missing else "missing: " + "; ".join(missing)[:300]
        return Score(self.name, share, share >= self.threshold, detail)
