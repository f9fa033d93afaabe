"""Money: ``Decimal`` only, exact until one named rounding step.

Rules (SPEC §5.1, STYLE "Values and money"):

* every amount and price enters through :func:`decimal`, which refuses floats;
* arithmetic runs under :data:`MONEY_CONTEXT`, which traps ``Inexact``: a computation that
  would have to round raises instead of silently losing a digit;
* rounding happens once, late (on an invoice line), through :func:`round_amount` with an
  explicit mode;
* amounts leave as strings (:func:`format_amount`), never as binary floating point.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Literal

from ciyuan.core.errors import InputError

__all__ = [
    "CURRENCIES",
    "MONEY_CONTEXT",
    "NANO_PLACES",
    "PER_MILLION",
    "FloatMoneyError",
    "InvalidAmountError",
    "Rounding",
    "decimal",
    "exact_sum",
    "format_amount",
    "from_nano",
    "minor_unit_places",
    "per_token",
    "round_amount",
    "to_nano_units",
]

#: ISO 4217 currencies ciyuan prices in, with the number of decimal places of the minor unit.
CURRENCIES: dict[str, int] = {"USD": 2, "CNY": 2}

#: Token prices are quoted per million tokens.
PER_MILLION = Decimal(1_000_000)

#: Arithmetic context for money: wide enough for any realistic amount (60 significant digits)
#: and trapping ``Inexact`` so nothing is ever rounded by accident.
MONEY_CONTEXT = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)

Rounding = Literal["half-even", "half-up", "down", "up", "floor", "ceiling"]

_MODES: dict[str, str] = {
    "half-even": ROUND_HALF_EVEN,
    "half-up": ROUND_HALF_UP,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}


class FloatMoneyError(InputError, TypeError):
    code = "float-money"
    summary = ("A binary float was given where money is expected; pass a string such as "
               "\"2.50\", an int or a Decimal.")


class InvalidAmountError(InputError, ValueError):
    code = "invalid-amount"
    summary = "A money amount or price is not a finite decimal number."


def decimal(value: str | int | Decimal, *, field: str = "amount") -> Decimal:
    """The one way money enters ciyuan: a finite ``Decimal`` from a str, int or Decimal.

    Floats are refused (``FloatMoneyError``): ``0.1`` has no exact binary representation and
    a price read through one is already wrong. ``field`` names the value in the message.
    """
    given: object = value  # checked at run time too: callers may not be type-checked
    if isinstance(given, bool):
        raise InvalidAmountError(f"{field}: expected a decimal number, got a boolean {value!r}",
                                 field=field)
    if isinstance(given, Decimal):
        result = given
    elif isinstance(given, int):
        result = Decimal(given)
    elif isinstance(given, str):
        try:
            result = Decimal(given.strip().replace("_", ""))
        except InvalidOperation:
            raise InvalidAmountError(
                f"{field}: {value!r} is not a decimal number; write it like \"2.50\"",
                field=field) from None
    elif isinstance(given, float):
        raise FloatMoneyError(
            f"{field}: got the float {value!r}; money is never a float. Pass the digits as a "
            f"string (\"{value!r}\") or a Decimal",
            field=field)
    else:
        raise InvalidAmountError(
            f"{field}: expected str, int or Decimal, got {type(value).__name__}", field=field)
    if not result.is_finite():
        raise InvalidAmountError(f"{field}: {value!r} is not a finite number", field=field)
    return result


def per_token(price_per_mtok: Decimal) -> Decimal:
    """The exact price of one token given a price per million tokens."""
    return MONEY_CONTEXT.divide(price_per_mtok, PER_MILLION)


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Sum without rounding (raises ``Inexact`` rather than drop a digit)."""
    total = Decimal(0)
    for amount in amounts:
        total = MONEY_CONTEXT.add(total, amount)
    return total


def minor_unit_places(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit (USD and CNY: 2)."""
    try:
        return CURRENCIES[currency]
    except KeyError:
        raise InvalidAmountError(
            f"currency {currency!r} is not supported; use one of {', '.join(CURRENCIES)}",
            field="currency") from None


def round_amount(amount: Decimal, *, places: int, mode: Rounding) -> Decimal:
    """Round ``amount`` to ``places`` decimal places with an explicit ``mode``.

    The only rounding function in ciyuan. Rating never calls it; invoices call it once per
    line (see docs/concepts/pricing.md, "Rounding").
    """
    if mode not in _MODES:
        raise InvalidAmountError(
            f"rounding mode {mode!r} is unknown; use one of {', '.join(_MODES)}", field="mode")
    quantum = Decimal(1).scaleb(-places)
    context = Context(prec=MONEY_CONTEXT.prec, rounding=_MODES[mode],
                      traps=[InvalidOperation, DivisionByZero, Overflow])
    return amount.quantize(quantum, context=context)


def format_amount(amount: Decimal) -> str:
    """A plain decimal string, exact, without exponent or trailing zeros.

    ``Decimal('1E-7')`` → ``"0.0000001"``; ``Decimal('12.5000000')`` → ``"12.5"``.
    """
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


#: Ledger and usage amounts are integers at this scale: nano-units (10⁻⁹) of a currency.
NANO_PLACES = 9


def to_nano_units(amount: Decimal, mode: Rounding) -> int:
    """``amount`` as integer nano-units, rounded once at 10⁻⁹ by the named ``mode``."""
    rounded = round_amount(amount, places=NANO_PLACES, mode=mode)
    return int(rounded.scaleb(NANO_PLACES, context=MONEY_CONTEXT))


def from_nano(amount_nano: int) -> Decimal:
    """Nano-units back to an exact decimal amount."""
    return Decimal(amount_nano).scaleb(-NANO_PLACES, context=MONEY_CONTEXT)
