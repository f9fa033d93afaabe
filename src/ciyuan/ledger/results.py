"""Result codes: one documented code per reason a transfer or account is refused.

Modelled on TigerBeetle's ``CreateTransferResult``. The codes are the stable, kebab-case
values; their docstrings are rendered into ``docs/concepts/ledger.md``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Result"]


class Result(StrEnum):
    """Outcome of one transfer (or account) in a batch."""

    #: Applied, or already applied with the same fields (an idempotent retry).
    OK = "ok"
    #: Another transfer of the same linked chain failed, so this one was not applied.
    LINKED_EVENT_FAILED = "linked-event-failed"
    #: The batch ended inside a linked chain (the last transfer still has ``LINKED``).
    LINKED_EVENT_CHAIN_OPEN = "linked-event-chain-open"
    #: The id (idempotency key) exists with different fields; use a new key.
    EXISTS_WITH_DIFFERENT_FIELDS = "exists-with-different-fields"
    #: More than one of PENDING, POST_PENDING, VOID_PENDING is set.
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags-are-mutually-exclusive"
    #: Debit and credit name the same account.
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts-must-be-different"
    #: The debit or the credit account does not exist.
    ACCOUNT_NOT_FOUND = "account-not-found"
    #: Debit and credit accounts hold different currencies or units.
    CURRENCY_MISMATCH = "currency-mismatch"
    #: The amount is zero or negative.
    AMOUNT_MUST_BE_POSITIVE = "amount-must-be-positive"
    #: A POST_PENDING or VOID_PENDING transfer has no ``pending_id``.
    PENDING_ID_REQUIRED = "pending-id-required"
    #: A plain or PENDING transfer has a ``pending_id``.
    PENDING_ID_MUST_BE_EMPTY = "pending-id-must-be-empty"
    #: A ``timeout_s`` on a transfer that is not PENDING.
    TIMEOUT_RESERVED_FOR_PENDING = "timeout-reserved-for-pending"
    #: No transfer has the ``pending_id``.
    PENDING_NOT_FOUND = "pending-not-found"
    #: The ``pending_id`` names a transfer that is not PENDING.
    PENDING_NOT_PENDING = "pending-not-pending"
    #: Post or void names other accounts (or another unit) than the pending transfer.
    PENDING_DIFFERENT_ACCOUNTS = "pending-different-accounts"
    #: The pending transfer was already posted.
    PENDING_ALREADY_POSTED = "pending-already-posted"
    #: The pending transfer was already voided.
    PENDING_ALREADY_VOIDED = "pending-already-voided"
    #: The pending transfer's timeout passed; its amount was released.
    PENDING_EXPIRED = "pending-expired"
    #: A post asks for more than the pending amount.
    EXCEEDS_PENDING_AMOUNT = "exceeds-pending-amount"
    #: A void names an amount other than the pending amount.
    VOID_AMOUNT_MISMATCH = "void-amount-mismatch"
    #: The debit account (debits must not exceed credits + credit limit) would go negative.
    EXCEEDS_CREDITS = "exceeds-credits"
    #: The credit account (credits must not exceed debits + credit limit) would overflow.
    EXCEEDS_DEBITS = "exceeds-debits"
    #: A balance would pass 2**63-1 units, the bound of SQLite INTEGER.
    OVERFLOWS_BALANCE = "overflows-balance"
