"""The invoice's rounding rule and the bridge between decimal money and ledger units.

* **Invoice rule** (:data:`INVOICE_ROUNDING`): each invoice line is rounded once, half-up
  (half away from zero, so a credit mirrors its invoice) to the currency's ISO 4217 minor
  unit (USD and CNY: 2 places). Tax is computed on the unrounded base, then rounded once by
  the same rule.
* **Accrual rule** (:data:`ACCRUAL_ROUNDING`): the ledger holds integers of 10⁻⁹ of the
  currency (nano-units). An exact amount finer than that (a residual such as
  0.000000000375) is carried to nano-units half-even. Rounded invoice amounts are whole
  nano-units already, so this only ever touches residuals and accruals.
"""

from __future__ import annotations

from decimal import Decimal

from ciyuan.core.money import (
    NANO_PLACES,
    Rounding,
    from_nano,
    minor_unit_places,
    round_amount,
    to_nano_units,
)
from ciyuan.invoice.errors import CreditNoteInvalidError

__all__ = [
    "ACCRUAL_ROUNDING",
    "INVOICE_ROUNDING",
    "NANO_PLACES",
    "check_minor_units",
    "from_nano",
    "round_line",
    "to_nano",
]

#: The one named rule for invoice lines and tax.
INVOICE_ROUNDING: Rounding = "half-up"
#: How exact amounts are carried into ledger units (nano-units).
ACCRUAL_ROUNDING: Rounding = "half-even"
#: Decimal places of one ledger unit of money (``ciyuan.ledger.units``: scale 9).


def round_line(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded once by the invoice rule to ``currency``'s minor unit."""
    return round_amount(amount, places=minor_unit_places(currency), mode=INVOICE_ROUNDING)


def to_nano(amount: Decimal) -> int:
    """``amount`` in nano-units (10⁻⁹), carried half-even when it is finer than that."""
    return to_nano_units(amount, ACCRUAL_ROUNDING)


def check_minor_units(amount: Decimal, currency: str, what: str = "amount") -> Decimal:
    """``amount`` if it has no digits below ``currency``'s minor unit; an error otherwise."""
    if round_line(amount, currency) != amount:
        places = minor_unit_places(currency)
        raise CreditNoteInvalidError(
            f"{what} {amount} {currency} has digits below the minor unit; give at most "
            f"{places} decimal places", field=what, value=str(amount))
    return amount
