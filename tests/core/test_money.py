"""Money: one float-refusing constructor, exact arithmetic, one named rounding function."""

from __future__ import annotations

from decimal import Decimal, Inexact, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.core.errors import InputError
from ciyuan.core.money import (
    MONEY_CONTEXT,
    FloatMoneyError,
    InvalidAmountError,
    decimal,
    exact_sum,
    format_amount,
    minor_unit_places,
    per_token,
    round_amount,
)


def test_decimal_accepts_str_int_decimal() -> None:
    assert decimal("2.50") == Decimal("2.50")
    assert decimal(3) == Decimal(3)
    assert decimal(Decimal("0.000001")) == Decimal("0.000001")
    assert decimal(" 1_000.5 ") == Decimal("1000.5")


def test_decimal_refuses_floats_with_a_typed_error_that_says_what_to_do() -> None:
    with pytest.raises(FloatMoneyError) as info:
        decimal(0.1, field="input")  # type: ignore[arg-type]
    assert isinstance(info.value, InputError)
    assert "input" in info.value.message and '"0.1"' in info.value.message
    assert info.value.code == "float-money"


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity", True, None, [1]])
def test_decimal_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(InvalidAmountError):
        decimal(bad)  # type: ignore[arg-type]


def test_per_token_is_exact() -> None:
    assert per_token(Decimal("0.15")) == Decimal("0.00000015")
    assert Decimal(1_234_567) * per_token(Decimal("0.15")) == Decimal("0.18518505")


def test_money_context_refuses_to_round_silently() -> None:
    with localcontext(MONEY_CONTEXT), pytest.raises(Inexact):
        _ = Decimal(1) / Decimal(3)


def test_exact_sum_never_rounds() -> None:
    parts = [Decimal("0.0000001")] * 10 + [Decimal("123456789012345678901234567890")]
    assert exact_sum(parts) == Decimal("123456789012345678901234567890.000001")


@pytest.mark.parametrize(("amount", "mode", "expected"), [
    ("0.185", "half-even", "0.18"),
    ("0.185", "half-up", "0.19"),
    ("0.18518505", "half-up", "0.19"),
    ("-0.125", "half-even", "-0.12"),
    ("-0.125", "half-up", "-0.13"),
    ("0.111", "ceiling", "0.12"),
    ("0.119", "floor", "0.11"),
    ("0.119", "down", "0.11"),
    ("0.111", "up", "0.12"),
])
def test_round_amount_uses_the_named_mode(amount: str, mode: str, expected: str) -> None:
    assert round_amount(Decimal(amount), places=2, mode=mode) == Decimal(expected)  # type: ignore[arg-type]


def test_round_amount_refuses_unknown_modes() -> None:
    with pytest.raises(InvalidAmountError):
        round_amount(Decimal(1), places=2, mode="bankers")  # type: ignore[arg-type]


def test_never_round_per_event() -> None:
    """10,000 calls of 1,000 tokens at $2.50/M: rounding each call loses the whole bill."""
    per_call = Decimal(1000) * per_token(Decimal("2.50"))
    rounded_each = sum(round_amount(per_call, places=2, mode="half-even") for _ in range(10_000))
    assert rounded_each == 0
    assert round_amount(exact_sum([per_call] * 10_000), places=2, mode="half-even") == 25


def test_format_amount_is_plain_and_exact() -> None:
    assert format_amount(Decimal("1E-7")) == "0.0000001"
    assert format_amount(Decimal("12.5000000")) == "12.5"
    assert format_amount(Decimal("100")) == "100"
    assert format_amount(Decimal("1E+2")) == "100"
    assert format_amount(Decimal("-0.000")) == "0"


def test_minor_units() -> None:
    assert minor_unit_places("USD") == 2 and minor_unit_places("CNY") == 2
    with pytest.raises(InvalidAmountError):
        minor_unit_places("XBT")


@given(st.integers(0, 10**12), st.decimals(min_value=0, max_value=1000, places=6))
def test_token_cost_is_exact_for_any_count_and_price(tokens: int, price: Decimal) -> None:
    cost = MONEY_CONTEXT.multiply(Decimal(tokens), per_token(price))
    assert cost * Decimal(1_000_000) == Decimal(tokens) * price
