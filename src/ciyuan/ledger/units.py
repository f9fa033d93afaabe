"""Currencies and units of the ledger, their fixed scales and the amount bound.

Amounts are integers at a fixed scale per unit, chosen once and never changed (TigerBeetle's
"asset scale"): money is kept in nano-units (10^-9 of the currency: 1 USD = 10^9), which is
fine enough for per-token prices such as $0.15 per million tokens (150 nano-USD per token);
token units have scale 0 (1 unit = 1 token).

Bound: every amount and every balance fits SQLite's signed 64-bit INTEGER, so it is at most
``AMOUNT_MAX`` = 2**63-1 units, about 9.22e9 USD at nano-unit scale. Larger amounts are
refused with a typed error, never wrapped.
"""

from __future__ import annotations

import re

from ciyuan.ledger.errors import LedgerAmountRangeError, LedgerAmountTypeError, LedgerUnitError

__all__ = ["AMOUNT_MAX", "CURRENCY_SCALES", "NANO_PER_UNIT", "check_amount", "unit_scale"]

#: The largest amount or balance: SQLite INTEGER is a signed 64-bit integer.
AMOUNT_MAX = 2**63 - 1
#: Nano-units per unit of currency (scale 9).
NANO_PER_UNIT = 10**9
#: Currency code → decimal places of one ledger unit.
CURRENCY_SCALES: dict[str, int] = {"USD": 9, "CNY": 9, "EUR": 9}
_TOKEN_UNIT = re.compile(r"TOKEN(:[A-Za-z0-9._/-]{1,100})?")


def unit_scale(unit: str) -> int:
    """Decimal places of one ledger unit of ``unit``: 9 for money, 0 for tokens."""
    if unit in CURRENCY_SCALES:
        return CURRENCY_SCALES[unit]
    if _TOKEN_UNIT.fullmatch(unit):
        return 0
    raise LedgerUnitError(
        f"unknown ledger unit {unit!r}: use one of {sorted(CURRENCY_SCALES)}, TOKEN or "
        "TOKEN:<model>", unit=unit)


def check_amount(value: object, *, field: str = "amount") -> int:
    """``value`` if it is an int in ``0 .. AMOUNT_MAX``; a typed error otherwise.

    Zero and negative numbers are let through on purpose: a transfer with them gets the
    result ``amount-must-be-positive``; only values that cannot be stored are refused here.
    """
    if type(value) is not int:
        raise LedgerAmountTypeError(
            f"{field} must be an int of ledger units, not {type(value).__name__} {value!r}; "
            "convert money with ciyuan.core.money first", field=field)
    if value > AMOUNT_MAX or value < -AMOUNT_MAX:
        raise LedgerAmountRangeError(
            f"{field} {value} is outside ±{AMOUNT_MAX} (SQLite INTEGER); split the transfer",
            field=field)
    return value
