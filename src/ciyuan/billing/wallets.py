"""Prepaid credit (wallets), top-ups and credit lines, as ledger accounts (pure planning).

A tenant's wallet in one currency is ``wallet:<tenant>:<CUR>``: a ``wallet`` account that
must not go negative beyond its ``credit_limit`` — the credit line. Top-ups come from
``funding:wallets:<CUR>``; calls are paid to ``revenue:<CUR>``, reserved with the budgets in
the same linked chain (so a call fits the budgets and the wallet at once, or is refused).

A credit line is part of the account and is fixed when the wallet is opened (accounts are
immutable, like every ledger entry): what the wallet may spend is
``credits_posted - debits_posted - debits_pending + credit_limit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ciyuan.billing.budgets import Hold, check_name
from ciyuan.billing.errors import WalletInvalidError
from ciyuan.core.money import (
    MONEY_CONTEXT,
    NANO_PLACES,
    Rounding,
    decimal,
    from_nano,
    round_amount,
)
from ciyuan.ledger import AMOUNT_MAX, Account, AccountKind, Balance, Transfer
from ciyuan.ledger.errors import LedgerAmountRangeError

__all__ = [
    "NANO_PLACES",
    "WalletStatus",
    "from_nano",
    "plan_top_up",
    "revenue_account",
    "to_nano",
    "wallet_account",
    "wallet_accounts",
    "wallet_hold",
    "wallet_id",
    "wallet_status",
]

#: Decimal places of one ledger unit of money (nano-units, ``ciyuan.ledger.units``).
PLATFORM = "platform"
_LARGEST = Decimal(AMOUNT_MAX).scaleb(-NANO_PLACES)


def to_nano(amount: str | int | Decimal, *, rounding: Rounding | None = None,
            field: str = "amount") -> int:
    """Money as integer nano-units. Without ``rounding`` the amount must be exact to 10⁻⁹
    (a typed error otherwise); with it, it is rounded once by that named mode."""
    value = decimal(amount, field=field)
    if abs(value) > _LARGEST:
        raise LedgerAmountRangeError(
            f"{field} {amount} is beyond what one ledger amount holds (about 9.2e9 of a "
            "currency at nano-unit scale); use a smaller amount", field=field)
    if rounding is not None:
        value = round_amount(value, places=NANO_PLACES, mode=rounding)
    elif round_amount(value, places=NANO_PLACES, mode="half-even") != value:
        raise WalletInvalidError(f"{field} {amount} has digits below 10⁻⁹ of the currency; "
                                 "give at most 9 decimal places", field=field)
    return int(value.scaleb(NANO_PLACES, context=MONEY_CONTEXT))


def wallet_id(tenant: str, currency: str) -> str:
    return f"wallet:{tenant}:{currency}"


def wallet_account(tenant: str, currency: str, credit_limit_nano: int = 0) -> Account:
    check_name(tenant, "tenant")
    if type(credit_limit_nano) is not int or credit_limit_nano < 0:
        raise WalletInvalidError(f"a credit line is an int >= 0 of nano-units, not "
                                 f"{credit_limit_nano!r}", field="credit_limit")
    return Account(wallet_id(tenant, currency), AccountKind.WALLET, currency, tenant,
                   debits_must_not_exceed_credits=True, credit_limit=credit_limit_nano)


def revenue_account(currency: str) -> Account:
    return Account(f"revenue:{currency}", AccountKind.PLATFORM_REVENUE, currency, PLATFORM)


def wallet_accounts(tenant: str, currency: str, credit_limit_nano: int = 0) -> list[Account]:
    """The wallet with the funding and revenue accounts it trades with."""
    return [Account(f"funding:wallets:{currency}", AccountKind.FUNDING, currency, PLATFORM),
            revenue_account(currency), wallet_account(tenant, currency, credit_limit_nano)]


def plan_top_up(tenant: str, currency: str, amount_nano: int, top_up_id: str) -> Transfer:
    """Add prepaid credit; ``top_up_id`` is the payment's idempotency key."""
    if type(amount_nano) is not int or amount_nano <= 0:
        raise WalletInvalidError(f"a top-up is a positive int of nano-units, not "
                                 f"{amount_nano!r}", field="amount")
    return Transfer(f"top-up:{top_up_id}", f"funding:wallets:{currency}",
                    wallet_id(tenant, currency), amount_nano, "top-up")


def wallet_hold(reservation_id: str, tenant: str, currency: str) -> Hold:
    """The wallet's leg of a reservation: wallet → revenue, pending until settled."""
    return Hold(f"{reservation_id}:wallet", wallet_id(tenant, currency),
                revenue_account(currency).id, "wallet")


@dataclass(frozen=True)
class WalletStatus:
    """A wallet's money in nano-units: ``available = balance - reserved + credit line``."""

    tenant: str
    currency: str
    balance_nano: int
    reserved_nano: int
    credit_limit_nano: int

    @property
    def available_nano(self) -> int:
        return self.balance_nano - self.reserved_nano + self.credit_limit_nano


def wallet_status(account: Account, balance: Balance) -> WalletStatus:
    return WalletStatus(account.owner, account.unit, balance.net_posted,
                        balance.debits_pending, account.credit_limit)
