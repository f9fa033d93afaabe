"""Scorers by meaning: cosine similarity of sentence embeddings (ciyuan.quality.embed).

``similarity`` compares the whole answer with the reference (or the best of several);
:func:`points_covered` is what the ``completeness`` scorer uses with ``match = "similarity"``:
a required point is covered when some sentence of the answer is close enough to one of its
phrasings. The encoder is all-MiniLM-L6-v2, trained on English: for Chinese text its
WordPiece vocabulary falls back to single characters (many unknown), so Chinese similarities
are much less reliable (unrelated Chinese sentences measured at 0.53) — use phrase matching
for Chinese, or configure a multilingual model directory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ciyuan.quality.errors import QualityError
from ciyuan.quality.scorers import Score, register

__all__ = ["EMBEDDING_SCORERS", "POINT_THRESHOLD", "SIMILARITY_THRESHOLD", "Similarity",
           "points_covered", "sentences"]

#: Cosine at which an answer counts as saying what the reference says. Measured with
#: all-MiniLM-L6-v2: close English paraphrases 0.71-0.78 ("prices fell by 20%" / "the cost
#: went down twenty percent" 0.71), unrelated English sentences about 0.0.
SIMILARITY_THRESHOLD = 0.7
#: Cosine at which one sentence of an answer covers a required point: a point is a short
#: phrase and a sentence says more, so the bar is lower ("refund the customer" / "we will
#: give you your money back" 0.46, "offer a discount" / "10% off your next order" 0.41,
#: unrelated about 0.0). Unrelated *Chinese* pairs reach 0.5 (the model is English-only).
POINT_THRESHOLD = 0.4
#: Scorers that take the ``model_dir`` option (the runner passes the configured model).
EMBEDDING_SCORERS = frozenset({"similarity", "completeness"})
#: Sentences of one answer embedded at most (bounds the work a long answer can cause).
MAX_SENTENCES = 200
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])|\n+")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after . ! ? ; and their full-width forms, and at line
    breaks), stripped, empty ones left out."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()][:MAX_SENTENCES]


def _strings(reference: Any, what: str) -> list[str]:
    if isinstance(reference, str) and reference.strip():
        return [reference]
    if isinstance(reference, Sequence) and reference and all(
            isinstance(r, str) and r.strip() for r in reference):
        return list(reference)
    raise QualityError(f"{what} must be a non-empty string or a list of them",
                       field="reference")


def _similarities(texts: list[str], split: int, model_dir: str | None) -> Any:
    """Cosines of ``texts[split:]`` (rows) against ``texts[:split]`` (columns)."""
    from ciyuan.quality.embed import cosine, load_encoder  # numpy only when scoring

    vectors = load_encoder(Path(model_dir) if model_dir else None).encode(texts)
    return cosine(vectors[split:], vectors[:split])


@register("similarity")
@dataclass(frozen=True)
class Similarity:
    """The cosine between answer and reference (the best of a list), clipped to [0, 1];
    passes at ``threshold``."""

    threshold: float = SIMILARITY_THRESHOLD
    model_dir: str | None = None  # None: the packaged all-MiniLM-L6-v2
    name: str = "similarity"

    def score(self, answer: str, reference: Any) -> Score:
        references = _strings(reference, "a similarity reference")
        if not answer.strip():
            return Score(self.name, 0.0, False, "empty answer")
        best = float(_similarities([answer, *references], 1, self.model_dir).max())
        value = min(max(best, 0.0), 1.0)
        return Score(self.name, value, value >= self.threshold, f"cosine {best:.3f}")


def points_covered(answer: str, points: Sequence[Any], threshold: float = POINT_THRESHOLD,
                   model_dir: str | None = None) -> list[bool]:
    """For each point (a phrase or a list of alternative phrases): does some sentence of
    ``answer`` reach ``threshold`` against one of its phrases? One batch for everything."""
    phrasings = [_strings(p, "a required point") for p in points]
    parts = sentences(answer)
    if not parts:
        return [False] * len(points)
    flat = [phrase for group in phrasings for phrase in group]
    table = _similarities([*parts, *flat], len(parts), model_dir).max(axis=1)  # per phrase
    covered, start = [], 0
    for group in phrasings:
        covered.append(bool(table[start:start + len(group)].max() >= threshold))
        start += len(group)
    return covered
