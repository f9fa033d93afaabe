"""Quality assessment: scorers that say how good an answer is (accuracy by exact, numeric,
multiple-choice, token-F1, regex and JSON match, and code run against unit tests in a
sandbox), each behind one Protocol and a registry."""

from ciyuan.quality.scorers import REGISTRY, Score, Scorer, get_scorer, safe_score

__all__ = ["REGISTRY", "Score", "Scorer", "get_scorer", "safe_score"]
