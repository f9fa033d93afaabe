"""Price-index formulas: published worked examples, the axioms every formula keeps
(hypothesis), chaining against fixed base, coverage, and the errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.core.errors import InputError
from ciyuan.stats.errors import NoMatchedCellsError, UnknownIndexFormulaError
from ciyuan.stats.index import (
    FORMULAS,
    IndexStep,
    chain,
    chain_steps,
    direct,
    fisher,
    laspeyres,
    matched_cells,
    paasche,
    tornqvist,
)


def period(prices: list[float], quantities: list[float]) -> dict[int, tuple[float, float]]:
    return {i: (p, q) for i, (p, q) in enumerate(zip(prices, quantities, strict=True))}


def cut(value: float, decimals: int) -> float:
    """A figure as Statistics Finland prints it: cut, not rounded, at the last digit shown
    (102.857... is printed 102.85, 1.08928... is printed 1.0892)."""
    scale = 10**decimals
    return math.floor(value * scale + 1e-9) / scale


# --- Published example 1 -------------------------------------------------------------------
# Statistics Finland, eCourse in Statistics: Indices, lesson 3 "How to calculate indices",
# topic 3.3 "Fixed-base indices and chain indices"
# (https://www.tilastokeskus.fi/tup/verkkokoulu/data/ind/03/03/index_en.html): two
# commodities A and B over four times X0..X3, Laspeyres fixed-base and chain indices.
FINLAND_33 = [
    {"A": (50.0, 10.0), "B": (25.0, 15.0)},  # X0
    {"A": (55.0, 15.0), "B": (20.0, 20.0)},  # X1
    {"A": (60.0, 15.0), "B": (20.0, 25.0)},  # X2
    {"A": (60.0, 10.0), "B": (25.0, 20.0)},  # X3
]
FINLAND_33_FIXED_BASE = [100.0, 97.14, 102.85, 111.42]
FINLAND_33_LINKS = [0.9714, 1.0612, 1.0892]
FINLAND_33_CHAIN = [100.0, 97.14, 103.08, 112.27]


def test_statistics_finland_fixed_base_laspeyres() -> None:
    got = direct(FINLAND_33, "laspeyres")
    assert [cut(x, 2) for x in got] == pytest.approx(FINLAND_33_FIXED_BASE, abs=1e-9)


def test_statistics_finland_chain_laspeyres() -> None:
    links = [laspeyres(a, b) for a, b in zip(FINLAND_33, FINLAND_33[1:], strict=False)]
    assert [cut(x, 4) for x in links] == pytest.approx(FINLAND_33_LINKS, abs=1e-9)
    # The source multiplies the links already cut to four decimals (1.0892 * 103.08 =
    # 112.27); cutting three links moves a level near 112 by at most 3e-4 * 112 < 0.035.
    assert chain(FINLAND_33, "laspeyres") == pytest.approx(FINLAND_33_CHAIN, abs=0.035)


# --- Published example 2 -------------------------------------------------------------------
# Statistics Finland, eCourse in Statistics: Indices, lesson 3, topic 2, example 1
# "Indeksikaavojen eroja" (differences between index formulas)
# (https://tilastokoulu.stat.fi/verkkokoulu_v2.xql?page_type=esim&course_id=tkoulu_inde
#  &lesson_id=3&subject_id=2&example_id=1): a packet of coffee, a running shoe and petrol
# from time 0 to time t. Printed: Laspeyres 103.90, Paasche 101.03 (the Fisher figure is
# described only as the geometric mean of the two).
FINLAND_32_0 = {"coffee": (2.00, 40.0), "shoe": (40.00, 1.0), "petrol": (0.90, 60.0)}
FINLAND_32_T = {"coffee": (2.10, 20.0), "shoe": (32.00, 1.0), "petrol": (1.08, 40.0)}


def test_statistics_finland_laspeyres_and_paasche() -> None:
    assert cut(100 * laspeyres(FINLAND_32_0, FINLAND_32_T), 2) == pytest.approx(103.90)
    assert cut(100 * paasche(FINLAND_32_0, FINLAND_32_T), 2) == pytest.approx(101.03)
    assert fisher(FINLAND_32_0, FINLAND_32_T) == pytest.approx(
        math.sqrt(laspeyres(FINLAND_32_0, FINLAND_32_T) * paasche(FINLAND_32_0, FINLAND_32_T)))


# --- The CPI/PPI Manual's artificial data set ----------------------------------------------
# ILO/IMF et al., Consumer Price Index Manual (2004) and Producer Price Index Manual (2004),
# chapter 19 "Price indices using an artificial data set", Tables 19.1 (prices) and 19.2
# (quantities): six commodities, five periods. Transcribed from the R package gpindex
# (data sets price6 / quantity6, which cite PPI Manual Tables 19.1-19.2 via Balk 2008,
# Tables 3.1-3.2). We could not consult the Manual's own result tables, so the only printed
# results used below are gpindex's reference page
# (https://marberts.github.io/gpindex/reference/price_data.html), which prints fixed-base
# Laspeyres and Paasche to four decimals in an example it says recreates Balk (2008),
# Tables 3.4-3.12. Everything else on this data set is worked by hand from the data.
MANUAL_P = [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.2, 3.0, 1.3, 0.7, 1.4, 0.8],
            [1.0, 1.0, 1.5, 0.5, 1.7, 0.6], [0.8, 0.5, 1.6, 0.3, 1.9, 0.4],
            [1.0, 1.0, 1.6, 0.1, 2.0, 0.2]]
MANUAL_Q = [[1.0, 1.0, 2.0, 1.0, 4.5, 0.5], [0.8, 0.9, 1.9, 1.3, 4.7, 0.6],
            [1.0, 1.1, 1.8, 3.0, 5.0, 0.8], [1.2, 1.2, 1.9, 6.0, 5.6, 1.3],
            [0.9, 1.2, 2.0, 12.0, 6.5, 2.5]]
MANUAL = [period(p, q) for p, q in zip(MANUAL_P, MANUAL_Q, strict=True)]


def test_manual_data_fixed_base_laspeyres_and_paasche_as_printed_by_gpindex() -> None:
    assert direct(MANUAL, "laspeyres", base=1.0) == pytest.approx(
        [1.0, 1.420, 1.345, 1.355, 1.440], abs=5e-5)
    assert direct(MANUAL, "paasche", base=1.0) == pytest.approx(
        [1.0, 1.3824, 1.2031, 1.0209, 0.7968], abs=5e-5)


def test_manual_data_first_link_worked_by_hand() -> None:
    a, b = MANUAL[0], MANUAL[1]
    # every period-1 price is 1, so period-1 expenditure is the sum of quantities: 10
    assert laspeyres(a, b) == pytest.approx((1.2 + 3.0 + 2.6 + 0.7 + 6.3 + 0.4) / 10)
    assert paasche(a, b) == pytest.approx(
        (0.96 + 2.7 + 2.47 + 0.91 + 6.58 + 0.48) / (0.8 + 0.9 + 1.9 + 1.3 + 4.7 + 0.6))
    s0 = [q / 10 for q in MANUAL_Q[0]]
    s1 = [p * q / 14.1 for p, q in zip(MANUAL_P[1], MANUAL_Q[1], strict=True)]
    assert tornqvist(a, b) == pytest.approx(math.exp(math.fsum(
        (x + y) / 2 * math.log(p) for x, y, p in zip(s0, s1, MANUAL_P[1], strict=True))))
    assert laspeyres(a, b) > fisher(a, b) > paasche(a, b)


def test_manual_data_chain_is_the_product_of_links_and_differs_from_fixed_base() -> None:
    for name, formula in FORMULAS.items():
        links = [formula(a, b) for a, b in zip(MANUAL, MANUAL[1:], strict=False)]
        assert chain(MANUAL, name)[-1] == pytest.approx(100 * math.prod(links))
        assert direct(MANUAL, name)[-1] == pytest.approx(100 * formula(MANUAL[0], MANUAL[-1]))
    # commodity 4's price falls tenfold while its quantity rises twelvefold: the fixed-base
    # Laspeyres and Paasche drift far apart, the chained ones much less
    spread_direct = direct(MANUAL, "laspeyres")[-1] / direct(MANUAL, "paasche")[-1]
    spread_chain = chain(MANUAL, "laspeyres")[-1] / chain(MANUAL, "paasche")[-1]
    assert spread_direct > 1.8 > 1.2 > spread_chain > 1.0


# --- Properties ------------------------------------------------------------------------------
prices = st.floats(0.01, 1000, allow_nan=False, allow_infinity=False)
quantities = st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False)
two_periods = st.integers(1, 8).flatmap(lambda n: st.tuples(
    *(st.lists(s, min_size=n, max_size=n) for s in (prices, quantities, prices, quantities))))
ALL = (laspeyres, paasche, fisher, tornqvist)


@given(two_periods, st.floats(0.01, 100))
def test_identity_and_proportionality(data: tuple[list[float], ...], k: float) -> None:
    p0, q0, _, q1 = data
    a = period(p0, q0)
    for formula in ALL:
        assert formula(a, period(p0, q1)) == 1.0  # same prices, any quantities: exactly 1
        assert formula(a, period([k * p for p in p0], q1)) == pytest.approx(k, rel=1e-9)


@given(two_periods)
def test_fisher_between_laspeyres_and_paasche_and_time_reversal(
        data: tuple[list[float], ...]) -> None:
    p0, q0, p1, q1 = data
    a, b = period(p0, q0), period(p1, q1)
    low, high = sorted((laspeyres(a, b), paasche(a, b)))
    assert low * (1 - 1e-12) <= fisher(a, b) <= high * (1 + 1e-12)
    assert fisher(a, b) * fisher(b, a) == pytest.approx(1.0, rel=1e-9)
    assert tornqvist(a, b) * tornqvist(b, a) == pytest.approx(1.0, rel=1e-9)


@given(two_periods, st.sampled_from(sorted(FORMULAS)), st.floats(1, 1000))
def test_two_periods_chain_and_direct_are_the_bilateral_index(
        data: tuple[list[float], ...], name: str, base: float) -> None:
    p0, q0, p1, q1 = data
    a, b = period(p0, q0), period(p1, q1)
    assert chain([a, b], name, base) == [base, base * FORMULAS[name](a, b)]
    assert direct([a, b], name, base) == chain([a, b], name, base)
    assert chain([a], name, base) == direct([a], name, base) == [base]
    assert chain([], name) == direct([], name) == []


# --- Matched cells and coverage ----------------------------------------------------------------
def test_only_matched_cells_enter_a_link() -> None:
    a = {"retired": (1.0, 10.0), "both": (2.0, 5.0), "free": (0.0, 9.0), "odd": (1.0, -1.0)}
    b = {"both": (3.0, 5.0), "new": (9.0, 1.0), "free": (0.0, 9.0), "odd": (2.0, 1.0)}
    assert matched_cells(a, b) == ["both"]
    for formula in ALL:
        assert formula(a, b) == pytest.approx(1.5)


def test_chain_steps_report_links_and_coverage() -> None:
    m1 = {("a", "input"): (2.0, 10.0), ("a", "output"): (8.0, 5.0)}
    m2 = {("a", "input"): (1.0, 20.0), ("a", "output"): (8.0, 5.0), ("b", "input"): (4.0, 5.0)}
    steps = chain_steps([m1, m2], "fisher", labels=["2026-01", "2026-02"])
    # February spends 20 + 40 on the matched cells and 20 on the new model: 60 / 80 covered
    assert steps == [IndexStep("2026-01", "2026-02", "fisher", fisher(m1, m2), 2, 0.75)]
    assert [s.ratio for s in chain_steps([m1, m2, m1])] == [
        tornqvist(m1, m2), tornqvist(m2, m1)]
    assert chain_steps([m1, m2, m1])[1].expenditure_share_matched == 1.0
    assert chain_steps([m1])[:] == []


# --- Errors --------------------------------------------------------------------------------
def test_no_link_without_matched_expenditure() -> None:
    for formula in ALL:
        with pytest.raises(NoMatchedCellsError) as caught:
            formula({"a": (1.0, 1.0)}, {"b": (1.0, 1.0)})
        assert caught.value.code == "stats-no-matched-cells"
        assert caught.value.details == {"matched": 0}
        with pytest.raises(NoMatchedCellsError):  # matched, but nothing consumed in period 1
            formula({"a": (1.0, 1.0)}, {"a": (2.0, 0.0)})
    with pytest.raises(NoMatchedCellsError):
        chain([{"a": (1.0, 1.0)}, {"a": (1.0, 1.0)}, {"b": (1.0, 1.0)}])


def test_unknown_formula_and_bad_labels() -> None:
    one = [{"a": (1.0, 1.0)}]
    for function in (chain, direct, chain_steps):
        with pytest.raises(UnknownIndexFormulaError, match="tornqvist") as caught:
            function(one, "carli")
        assert caught.value.code == "stats-unknown-formula"
    with pytest.raises(InputError, match="labels"):
        chain_steps(one * 2, labels=["2026-01"])
