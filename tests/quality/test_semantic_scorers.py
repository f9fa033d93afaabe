"""Test vectors of the similarity scorer and of completeness by similarity."""

from __future__ import annotations

import pytest

from ciyuan.quality.errors import QualityError
from ciyuan.quality.scorers import get_scorer
from ciyuan.quality.semantic import sentences

SIMILARITY = [  # answer, reference, passes at the default threshold
    ("Payment for the invoice is expected tomorrow.", "The invoice is due tomorrow.", True),
    ("Apologies for the delay of your order.", "We are sorry your order was late.", True),
    ("A cat sat on the mat.", "The invoice is due tomorrow.", False),
    ("The weather is nice today.", ["refund the customer", "The invoice is due tomorrow."],
     False),
]


@pytest.mark.parametrize(("answer", "reference", "passes"), SIMILARITY)
def test_similarity_vectors(answer: str, reference: str | list[str], passes: bool) -> None:
    score = get_scorer("similarity").score(answer, reference)
    assert score.passed is passes and 0.0 <= score.value <= 1.0
    assert score.detail.startswith("cosine ")


def test_similarity_values_and_bad_references() -> None:
    scorer = get_scorer("similarity")
    assert scorer.score("The invoice is due tomorrow.", "The invoice is due tomorrow.").value \
        == pytest.approx(1.0, abs=1e-5)
    unrelated = scorer.score("A cat sat on the mat.", "The invoice is due tomorrow.")
    assert unrelated.value < 0.2  # clipped at 0, never negative
    best = scorer.score("Sorry, your order was late.", ["a cat", "we apologise for the delay"])
    assert best.value > scorer.score("Sorry, your order was late.", "a cat").value
    assert scorer.score("", "anything").value == 0.0
    with pytest.raises(QualityError):
        scorer.score("x", [])
    assert get_scorer("similarity", threshold=0.99).score(
        "Payment for the invoice is expected tomorrow.", "The invoice is due tomorrow."
    ).passed is False


def test_sentences() -> None:
    assert sentences("One. Two!  Three?\nFour; five") == ["One.", "Two!", "Three?", "Four;",
                                                          "five"]
    assert sentences("价格下降了。我们扩张！好") == ["价格下降了。", "我们扩张！", "好"]
    assert sentences("  \n ") == []


def test_completeness_by_similarity_names_the_missing_points() -> None:
    scorer = get_scorer("completeness", match="similarity")
    points = ["refund the customer", ["apologise for the delay", "致歉"], "offer a discount"]
    answer = "We apologise for the delay of your order. We will refund you in full today."
    score = scorer.score(answer, points)
    assert score.value == pytest.approx(2 / 3) and not score.passed
    assert score.detail == "missing: offer a discount"
    full = scorer.score(answer + " We can give you a discount on your next order.", points)
    assert full.value == 1.0 and full.passed
    # the phrase matcher needs the words themselves: it misses the reworded refund
    assert get_scorer("completeness").score(answer, points).value == pytest.approx(1 / 3)
    off_topic = scorer.score("Thanks for writing, have a nice day.", points)
    assert off_topic.value == 0.0
    assert scorer.score("", points).value == 0.0
    strict = get_scorer("completeness", match="similarity", point_threshold=0.9)
    assert strict.score(answer, points).value == 0.0


def test_completeness_match_must_be_known() -> None:
    with pytest.raises(QualityError, match="phrase or similarity"):
        get_scorer("completeness", match="fuzzy")
