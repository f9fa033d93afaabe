"""Turning the ledger's result codes for a billing batch into typed billing errors."""

from __future__ import annotations

from collections.abc import Sequence

from ciyuan.billing.errors import (
    BillingConflictError,
    BudgetLevelExceededError,
    ReservationClosedError,
    ReservationInvalidError,
    WalletInsufficientError,
)
from ciyuan.billing.wallets import from_nano
from ciyuan.core.money import format_amount
from ciyuan.ledger import Balance, Result, Transfer

__all__ = ["first_failure", "raise_for"]

_CLOSED = {
    Result.PENDING_EXPIRED: "expired (its timeout passed and the ledger released it)",
    Result.PENDING_ALREADY_VOIDED: "already released",
    Result.PENDING_ALREADY_POSTED: "already settled",
}


def first_failure(results: Sequence[Result],
                  transfers: Sequence[Transfer]) -> tuple[Result, Transfer] | None:
    """The result that refused the batch (not the ``linked-event-failed`` echoes; one of
    those alone, a chain refused for another write's sake, when nothing else failed)."""
    echo = None
    for result, transfer in zip(results, transfers, strict=True):
        if result == Result.LINKED_EVENT_FAILED:
            echo = echo or (result, transfer)
        elif result != Result.OK:
            return result, transfer
    return echo


def _money(amount_nano: int, currency: str) -> str:
    return f"{format_amount(from_nano(amount_nano))} {currency}"


def raise_for(results: Sequence[Result], transfers: Sequence[Transfer], *, what: str,
              currency: str = "", balances: dict[str, Balance] | None = None) -> None:
    """Raise the typed error for the first refusal of the batch (nothing if all ``ok``).

    ``balances`` (read after the refusal) lets the message say what is left.
    """
    failure = first_failure(results, transfers)
    if failure is None:
        return
    result, t = failure
    if result is Result.EXCEEDS_CREDITS:
        b = (balances or {}).get(t.debit_account_id, Balance())
        left = max(0, b.credits_posted - b.debits_posted - b.debits_pending)
        if t.debit_account_id.startswith("wallet:"):
            raise WalletInsufficientError(
                f"{what}: wallet {t.debit_account_id} cannot cover {_money(t.amount, currency)}"
                f" ({_money(left, currency)} left before its credit line); top it up",
                account=t.debit_account_id, amount_nano=t.amount)
        raise BudgetLevelExceededError(
            f"{what}: {_money(t.amount, currency)} does not fit budget {t.debit_account_id} "
            f"({_money(left, currency)} left this period)",
            account=t.debit_account_id, amount_nano=t.amount, available_nano=left)
    if result in _CLOSED:
        raise ReservationClosedError(f"{what}: the reservation is {_CLOSED[result]}",
                                     transfer=t.id, result=str(result))
    if result is Result.EXISTS_WITH_DIFFERENT_FIELDS:
        raise ReservationInvalidError(
            f"{what}: transfer {t.id!r} exists with other fields; an id is used once (use "
            "a new reservation id, or settle with the amount you settled before)",
            transfer=t.id)
    raise BillingConflictError(f"{what}: the ledger refused transfer {t.id!r}: {result}",
                               transfer=t.id, result=str(result))
