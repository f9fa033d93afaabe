"""Cohen's kappa against published worked examples, and its invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.quality.agreement import cohen_kappa, expected_kappa, kappa_from_table


@pytest.mark.parametrize(("table", "observed", "chance", "kappa"), [
    # Wikipedia, "Cohen's kappa", section Examples: 50 grant proposals read by readers A and
    # B (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no): p_o = 0.7, p_e = 0.5, κ = 0.4.
    ([[20, 5], [10, 15]], 0.7, 0.5, 0.4),
    # The same article, "Same percentages but different numbers": both tables agree on 60 %
    # of 100 items, yet κ = 0.1304 and κ = 0.2593.
    ([[45, 15], [25, 15]], 0.6, 0.54, 0.1304),
    ([[25, 35], [5, 35]], 0.6, 0.46, 0.2593),
])
def test_published_examples(table: list[list[int]], observed: float, chance: float,
                            kappa: float) -> None:
    agreement = kappa_from_table(table)
    assert agreement.observed == pytest.approx(observed)
    assert agreement.expected == pytest.approx(chance)
    assert agreement.kappa == pytest.approx(kappa, abs=5e-5)
    n = sum(map(sum, table))
    assert agreement.standard_error == pytest.approx(
        math.sqrt(observed * (1 - observed) / (n * (1 - chance) ** 2)))


def test_labels_build_the_same_table() -> None:
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second).kappa == pytest.approx(0.4)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="square"):
        kappa_from_table([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="single class"):
        cohen_kappa(["a", "a"], ["a", "a"])
    with pytest.raises(ValueError, match="labelled"):
        cohen_kappa(["a"], ["a", "b"])


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=200))
def test_kappa_is_symmetric_bounded_and_one_on_identity(pairs: list[tuple[bool, bool]]) -> None:
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    if len(set(first) | set(second)) < 2:
        return
    k = cohen_kappa(first, second).kappa
    assert k == pytest.approx(cohen_kappa(second, first).kappa)
    assert -1.0 - 1e-12 <= k <= 1.0 + 1e-12
    if len(set(first)) == 2:
        assert cohen_kappa(first, first).kappa == pytest.approx(1.0)


def test_expected_kappa_of_a_judge() -> None:
    assert expected_kappa(1.0, 0.3)[0] == pytest.approx(1.0)  # a perfect judge
    assert expected_kappa(0.5, 0.5)[0] == pytest.approx(0.0)  # a coin
    kappa, chance = expected_kappa(0.85, 0.5)
    assert (kappa, chance) == (pytest.approx(0.7), pytest.approx(0.5))
