"""Test vectors of the text scorers, and the registry's crash-proof scoring."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ciyuan.quality import REGISTRY, Score, get_scorer, safe_score
from ciyuan.quality.errors import UnknownScorerError
from ciyuan.quality.text import extract_choice, extract_number, normalize, tokens


@pytest.mark.parametrize(("answer", "reference", "hit"), [
    ("Paris", "paris", True),
    ("  The Paris. ", "Paris", True),          # articles and punctuation go
    ("ＰＡＲＩＳ！", "paris", True),             # full width (NFKC)
    ("北京。", "北京", True),                     # Chinese punctuation
    ("Paris, France", "Paris", False),
    ("Lyon", ["Paris", "Lyon"], True),          # any accepted answer
])
def test_exact(answer: str, reference: object, hit: bool) -> None:
    assert get_scorer("exact").score(answer, reference).passed is hit


@pytest.mark.parametrize(("text", "number"), [
    ("The total is $1,234.50.", Fraction(246_900, 200)),
    ("about 12.5%", Fraction(1, 8)),
    ("3/4 of the budget", Fraction(3, 4)),
    ("first 3 then −7", Fraction(-7)),
    ("答案是 42", Fraction(42)),
    ("no digits here", None),
])
def test_extract_number(text: str, number: Fraction | None) -> None:
    assert extract_number(text) == number


def test_numeric_tolerances() -> None:
    strict = get_scorer("numeric")
    assert strict.score("It is 3.14159", "3.14159").passed
    assert not strict.score("It is 3.14", "3.14159").passed
    loose = get_scorer("numeric", abs_tol=0.01)
    assert loose.score("It is 3.14", "3.14159").passed
    relative = get_scorer("numeric", rel_tol=0.05)
    assert relative.score("about 1,030", "1000").passed
    assert not relative.score("about 1,060", "1000").passed
    assert strict.score("I do not know", "7").detail == "no number in the answer"


@pytest.mark.parametrize(("text", "choice"), [
    ("The answer is (C).", "C"), ("Answer: b", "B"), ("答案是B", "B"), ("选项：D", "D"),
    ("B. because it is cheaper", "B"), ("D", "D"), ("I would pick (A)", "A"),
    ("I think A or B", None), ("none of them", None),
])
def test_choice(text: str, choice: str | None) -> None:
    assert extract_choice(text) == choice
    assert get_scorer("choice").score(text, "b").passed is (choice == "B")


def test_token_f1_squad_style_and_chinese_by_character() -> None:
    f1 = get_scorer("f1")
    assert f1.score("the Eiffel Tower", "Eiffel Tower").value == 1.0
    half = f1.score("Eiffel", "Eiffel Tower")  # precision 1, recall 1/2
    assert half.value == pytest.approx(2 / 3)
    assert tokens("北京大学 in Beijing") == ["北", "京", "大", "学", "in", "beijing"]
    zh = f1.score("北京大学", "北京")  # 2 common of 4 and 2 characters
    assert zh.value == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert f1.score("nothing alike", "Eiffel Tower").value == 0.0
    assert normalize("A  cat, the DOG!") == "cat dog"


def test_regex() -> None:
    assert get_scorer("regex").score("Order #A-1234 shipped", r"#[A-Z]-\d{4}").passed
    assert not get_scorer("regex", ignore_case=False).score("order a-1234", r"A-\d+").passed


def test_registry_and_safe_scoring() -> None:
    assert {"exact", "numeric", "choice", "f1", "regex", "json", "code"} <= set(REGISTRY)
    with pytest.raises(UnknownScorerError, match="exact"):
        get_scorer("bleu-9000")
    broken = safe_score(get_scorer("regex"), "text", "([unclosed")  # the scorer raises
    assert broken == Score("regex", 0.0, False, error=broken.error) and broken.error
    assert "does not compile" in broken.error


def test_completeness_counts_required_points() -> None:
    points = ["invoice number", ["refund", "退款"], ["three days", "三天"]]
    full = get_scorer("completeness").score(
        "We checked the invoice number and will refund you within three days.", points)
    assert full.value == 1.0 and full.passed
    zh = get_scorer("completeness", threshold=0.6).score("已核对发票，三天内退款。", points)
    assert zh.value == pytest.approx(2 / 3) and zh.passed  # the invoice number is missing
    assert zh.detail == "missing: invoice number"
    assert get_scorer("completeness").score("Thanks!", points).value == 0.0
    broken = safe_score(get_scorer("completeness"), "x", "not a list")
    assert broken.error and "list of points" in broken.error
