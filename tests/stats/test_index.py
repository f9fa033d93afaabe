"""Price-index formulas: hand-checked values on the CPI Manual's artificial data set, the
axioms every formula must keep (hypothesis), chaining, and the errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.stats.errors import NoMatchedCellsError, UnknownIndexFormulaError
from ciyuan.stats.index import chain, fisher, laspeyres, paasche, tornqvist

# The artificial data set of the ILO/IMF Consumer Price Index Manual (2004), chapter 19:
# six commodities, prices and quantities in periods 1 and 2.
P1 = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
P2 = [1.2, 3.0, 1.3, 0.7, 1.4, 0.8]
Q1 = [1.0, 1.0, 2.0, 1.0, 4.5, 0.5]
Q2 = [0.8, 0.9, 1.9, 1.3, 4.7, 0.6]


def period(prices: list[float], quantities: list[float]) -> dict[int, tuple[float, float]]:
    return {i: (p, q) for i, (p, q) in enumerate(zip(prices, quantities, strict=True))}


def test_the_manuals_first_link_worked_by_hand() -> None:
    a, b = period(P1, Q1), period(P2, Q2)
    # Laspeyres: sum p2 q1 / sum p1 q1 = (1.2 + 3.0 + 2.6 + 0.7 + 6.3 + 0.4) / 10 = 1.42
    assert laspeyres(a, b) == pytest.approx(1.42)
    # Paasche: sum p2 q2 / sum p1 q2 = (0.96 + 2.7 + 2.47 + 0.91 + 6.58 + 0.48) / 10.2
    assert paasche(a, b) == pytest.approx(14.1 / 10.2)
    assert fisher(a, b) == pytest.approx(math.sqrt(1.42 * 14.1 / 10.2))
    # Törnqvist: with all period-1 prices 1, shares are the quantity shares in period 1 and
    # expenditure shares p2 q2 / 14.1 in period 2
    s1 = [q / 10 for q in Q1]
    s2 = [p * q / 14.1 for p, q in zip(P2, Q2, strict=True)]
    expected = math.exp(sum((x + y) / 2 * math.log(p) for x, y, p in zip(s1, s2, P2,
                                                                          strict=True)))
    assert tornqvist(a, b) == pytest.approx(expected)
    assert laspeyres(a, b) > fisher(a, b) > paasche(a, b)


ALL_P = [P1, P2, [1.0, 1.0, 1.5, 0.5, 1.7, 0.6], [0.8, 0.5, 1.6, 0.3, 1.9, 0.4],
         [1.0, 1.0, 1.6, 0.1, 2.0, 0.2]]
ALL_Q = [Q1, Q2, [1.0, 1.1, 1.8, 3.0, 5.0, 0.8], [1.2, 1.2, 1.9, 6.0, 5.6, 1.3],
         [0.9, 1.2, 2.0, 12.0, 6.5, 2.5]]
# Fixed-base indices of the five periods against period 1, to the four decimals the CPI
# Manual's chapter 19 prints them (the Paasche link 14.1 / 10.2 = 1.38235... sits on a
# rounding edge, hence the tolerance of one unit in the fourth decimal).
FIXED_BASE = {
    "laspeyres": [1.0, 1.4200, 1.3450, 1.3550, 1.4400],
    "paasche": [1.0, 1.3823, 1.2031, 1.0209, 0.7968],
    "fisher": [1.0, 1.4011, 1.2721, 1.1762, 1.0712],
    "tornqvist": [1.0, 1.4052, 1.2890, 1.2268, 1.2477],
}


@pytest.mark.parametrize("name", sorted(FIXED_BASE))
def test_the_manuals_fixed_base_table(name: str) -> None:
    formula = {"laspeyres": laspeyres, "paasche": paasche, "fisher": fisher,
               "tornqvist": tornqvist}[name]
    base = period(ALL_P[0], ALL_Q[0])
    got = [formula(base, period(p, q)) for p, q in zip(ALL_P, ALL_Q, strict=True)]
    assert got == pytest.approx(FIXED_BASE[name], abs=1.01e-4)


def test_chaining_the_manuals_periods_differs_from_fixed_base() -> None:
    periods_ = [period(p, q) for p, q in zip(ALL_P, ALL_Q, strict=True)]
    chained = [x / 100 for x in chain(periods_, "fisher")]
    # the chain multiplies the links: period 5 chained = product of the four Fisher links
    links = math.prod(fisher(a, b) for a, b in zip(periods_, periods_[1:], strict=False))
    assert chained[-1] == pytest.approx(links)
    # with prices that bounce (commodity 4 falls tenfold), chained and fixed base part ways
    assert chained[-1] == pytest.approx(1.2226, abs=1e-4)
    assert fisher(periods_[0], periods_[-1]) == pytest.approx(1.0712, abs=1e-4)


prices = st.floats(0.01, 1000, allow_nan=False, allow_infinity=False)
quantities = st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False)
periods = st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.lists(prices, min_size=n, max_size=n), st.lists(quantities, min_size=n, max_size=n),
    st.lists(prices, min_size=n, max_size=n), st.lists(quantities, min_size=n, max_size=n)))
FORMULAS = (laspeyres, paasche, fisher, tornqvist)


@given(periods)
def test_identity_and_proportionality(data: tuple[list[float], ...]) -> None:
    p0, q0, _, q1 = data
    a = period(p0, q0)
    for formula in FORMULAS:
        assert formula(a, period(p0, q1)) == pytest.approx(1.0)  # same prices: no change
        doubled = period([2.5 * p for p in p0], q1)
        assert formula(a, doubled) == pytest.approx(2.5)  # every price x 2.5


@given(periods)
def test_fisher_lies_between_and_time_reversal(data: tuple[list[float], ...]) -> None:
    p0, q0, p1, q1 = data
    a, b = period(p0, q0), period(p1, q1)
    low, high = sorted((laspeyres(a, b), paasche(a, b)))
    assert low * (1 - 1e-9) <= fisher(a, b) <= high * (1 + 1e-9)
    assert fisher(a, b) * fisher(b, a) == pytest.approx(1.0)
    assert tornqvist(a, b) * tornqvist(b, a) == pytest.approx(1.0)


def test_chain_of_links() -> None:
    a, b = period(P1, Q1), period(P2, Q2)
    c = period([1.0, 1.0, 1.5, 0.5, 1.7, 0.6], [1.0, 1.1, 1.8, 3.0, 5.0, 0.8])
    levels = chain([a, b, c], "fisher")
    assert levels[0] == 100.0
    assert levels[1] == pytest.approx(100 * fisher(a, b))
    assert levels[2] == pytest.approx(100 * fisher(a, b) * fisher(b, c))
    assert chain([a], "tornqvist") == [100.0] and chain([], "tornqvist") == []


def test_only_matched_cells_count() -> None:
    a = {"old": (1.0, 10.0), "both": (2.0, 5.0)}
    b = {"both": (3.0, 5.0), "new": (9.0, 1.0)}
    for formula in FORMULAS:
        assert formula(a, b) == pytest.approx(1.5)


def test_errors() -> None:
    with pytest.raises(NoMatchedCellsError) as caught:
        tornqvist({"a": (1.0, 1.0)}, {"b": (1.0, 1.0)})
    assert caught.value.code == "stats-no-matched-cells"
    with pytest.raises(UnknownIndexFormulaError, match="tornqvist"):
        chain([{"a": (1.0, 1.0)}], "carli")
