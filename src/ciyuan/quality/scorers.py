"""One Protocol for every scorer, a registry by name, and crash-proof scoring.

A scorer compares an answer (the model's text) with an item's reference and returns a
:class:`Score` in [0, 1]. A scorer that raises or times out never stops an evaluation run:
:func:`safe_score` turns the failure into a zero score that carries the error, so runs report
how many items could not be scored instead of dying on the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ciyuan.quality.errors import UnknownScorerError

__all__ = ["REGISTRY", "Score", "Scorer", "get_scorer", "load_builtin_scorers", "register",
           "safe_score"]


@dataclass(frozen=True)
class Score:
    """How good one answer is: ``value`` in [0, 1]; ``passed`` against the scorer's bar."""

    scorer: str
    value: float
    passed: bool
    detail: str = ""
    error: str = ""  # set when the scorer failed: the item counts as an error, not a zero
    judge: str = ""  # the judge model, for scores an LLM judge gave (ciyuan.quality.judge)
    rubric: str = ""  # and the rubric it used, as id@version

    def __post_init__(self) -> None:
        assert 0.0 <= self.value <= 1.0, self.value


class Scorer(Protocol):
    @property
    def name(self) -> str: ...

    def score(self, answer: str, reference: Any) -> Score: ...


#: Scorer factories by name (options become keyword arguments).
REGISTRY: dict[str, Callable[..., Scorer]] = {}


def register(name: str) -> Callable[[Callable[..., Scorer]], Callable[..., Scorer]]:
    def add(factory: Callable[..., Scorer]) -> Callable[..., Scorer]:
        assert name not in REGISTRY, f"scorer {name} registered twice"
        REGISTRY[name] = factory
        return factory
    return add


def get_scorer(name: str, **options: Any) -> Scorer:
    """The scorer called ``name`` with ``options``."""
    load_builtin_scorers()
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise UnknownScorerError(f"no scorer {name!r}; use one of {', '.join(sorted(REGISTRY))}",
                                 scorer=name) from None
    return factory(**options)


def safe_score(scorer: Scorer, answer: str, reference: Any) -> Score:
    """``scorer.score`` that never raises: a failure is a zero score carrying the error."""
    try:
        return scorer.score(answer, reference)
    except Exception as exc:  # noqa: BLE001 - any scorer bug must not stop the run
        return Score(scorer.name, 0.0, False, error=f"{type(exc).__name__}: {exc}"[:500])


def load_builtin_scorers() -> None:
    """Register the scorers ciyuan ships (their modules register themselves on import)."""
    from ciyuan.quality import (  # noqa: F401 - they register themselves
        code,
        judge,
        semantic,
        structured,
        text,
    )
