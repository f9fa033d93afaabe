"""Values of the ledger: accounts, transfers and balances (immutable, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag, StrEnum

from ciyuan.ledger.errors import LedgerAccountInvalidError, LedgerTransferInvalidError
from ciyuan.ledger.units import check_amount, unit_scale

__all__ = [
    "ID_MAX_CHARS",
    "Account",
    "AccountKind",
    "Balance",
    "PendingStatus",
    "Transfer",
    "TransferFlags",
]

#: Ids are client idempotency keys; 200 characters hold a UUID plus a readable prefix.
ID_MAX_CHARS = 200
#: Metadata is a few labels, not a document: 32 keys of at most 200 characters each.
METADATA_MAX_KEYS = 32


class AccountKind(StrEnum):
    WALLET = "wallet"
    CREDIT_LINE = "credit_line"
    BUDGET = "budget"
    TOKEN_PACK = "token_pack"
    PROVIDER_PAYABLE = "provider_payable"
    PLATFORM_REVENUE = "platform_revenue"
    RESELLER = "reseller"
    ROUNDING = "rounding"
    FUNDING = "funding"
    """The outside world: money enters (top-ups) and leaves (payouts) through it."""


class TransferFlags(IntFlag):
    NONE = 0
    LINKED = 1
    """This transfer and the next one succeed or fail together."""
    PENDING = 2
    """Reserve the amount (two-phase, phase one)."""
    POST_PENDING = 4
    """Post up to the amount of ``pending_id`` (phase two); the rest is released."""
    VOID_PENDING = 8
    """Release all of ``pending_id``."""


class PendingStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


def _check_id(value: object, what: str, *, optional: bool = False) -> None:
    if not isinstance(value, str) or (not value and not optional) or len(value) > ID_MAX_CHARS:
        raise LedgerTransferInvalidError(
            f"{what} must be a non-empty string of at most {ID_MAX_CHARS} characters, "
            f"not {value!r}", field=what)


@dataclass(frozen=True)
class Account:
    """A ledger account. ``unit`` is a currency (USD, CNY, EUR) or TOKEN[:model].

    With ``debits_must_not_exceed_credits`` (wallets, budgets, packs) the account may be
    debited at most ``credits_posted + credit_limit``, pending debits included.
    With ``credits_must_not_exceed_debits`` the mirror rule holds.
    """

    id: str
    kind: AccountKind
    unit: str
    owner: str
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    credit_limit: int = 0

    def __post_init__(self) -> None:
        try:
            _check_id(self.id, "account id")
            _check_id(self.owner, "owner", optional=True)
        except LedgerTransferInvalidError as error:
            raise LedgerAccountInvalidError(error.message, **error.details) from None
        object.__setattr__(self, "kind", AccountKind(self.kind))
        unit_scale(self.unit)
        if check_amount(self.credit_limit, field="credit_limit") < 0:
            raise LedgerAccountInvalidError("credit_limit must be >= 0", field="credit_limit")
        if self.debits_must_not_exceed_credits and self.credits_must_not_exceed_debits:
            raise LedgerAccountInvalidError(
                "set at most one of debits_must_not_exceed_credits and "
                "credits_must_not_exceed_debits", field="flags")


@dataclass(frozen=True)
class Transfer:
    """One double-entry transfer; ``id`` is the client's idempotency key.

    ``timestamp_ns`` is set by the ledger when the transfer is stored (leave it 0);
    ``timeout_s`` (PENDING only, 0 = never) is how long the reservation holds.
    """

    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    code: str = "transfer"
    flags: TransferFlags = TransferFlags.NONE
    pending_id: str = ""
    timeout_s: int = 0
    metadata: tuple[tuple[str, str], ...] = field(default=())
    timestamp_ns: int = 0

    def __post_init__(self) -> None:
        _check_id(self.id, "id")
        _check_id(self.debit_account_id, "debit_account_id")
        _check_id(self.credit_account_id, "credit_account_id")
        _check_id(self.pending_id, "pending_id", optional=True)
        _check_id(self.code, "code")
        check_amount(self.amount)
        object.__setattr__(self, "flags", TransferFlags(self.flags))
        if type(self.timeout_s) is not int or not 0 <= self.timeout_s <= 10**9:
            raise LedgerTransferInvalidError(
                f"timeout_s must be an int in 0 .. 10**9, not {self.timeout_s!r}",
                field="timeout_s")
        if type(self.timestamp_ns) is not int or self.timestamp_ns < 0:
            raise LedgerTransferInvalidError("timestamp_ns must be an int >= 0",
                                             field="timestamp_ns")
        pairs = tuple(sorted(tuple(pair) for pair in self.metadata))
        if len(pairs) > METADATA_MAX_KEYS or not all(
                isinstance(k, str) and isinstance(v, str) and len(k) <= ID_MAX_CHARS
                and len(v) <= ID_MAX_CHARS for k, v in pairs):
            raise LedgerTransferInvalidError(
                f"metadata must be at most {METADATA_MAX_KEYS} str → str pairs of at most "
                f"{ID_MAX_CHARS} characters", field="metadata")
        object.__setattr__(self, "metadata", pairs)

    def same_body(self, other: Transfer) -> bool:
        """Whether two transfers are equal in every field the client sets (not the time)."""
        return self == other.stamped(self.timestamp_ns)

    def stamped(self, timestamp_ns: int) -> Transfer:
        """This transfer as stored at ``timestamp_ns``.

        Only the time is checked: every other field was checked when this transfer was
        built, and re-running those checks was a fifth of the engine's time per transfer.
        """
        if type(timestamp_ns) is not int or timestamp_ns < 0:
            raise LedgerTransferInvalidError("timestamp_ns must be an int >= 0",
                                             field="timestamp_ns")
        stamped = object.__new__(type(self))
        stamped.__dict__.update(self.__dict__, timestamp_ns=timestamp_ns)
        return stamped

    @property
    def expires_at_ns(self) -> int | None:
        """When a PENDING transfer with a timeout expires (None: never)."""
        if TransferFlags.PENDING not in self.flags or self.timeout_s == 0:
            return None
        return self.timestamp_ns + self.timeout_s * 10**9


@dataclass(frozen=True)
class Balance:
    """The four running totals of an account, in ledger units (TigerBeetle's model)."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def net_posted(self) -> int:
        """``credits_posted - debits_posted``: what the account holds, for a wallet."""
        return self.credits_posted - self.debits_posted

    def add(self, *, debits_pending: int = 0, debits_posted: int = 0, credits_pending: int = 0,
            credits_posted: int = 0) -> Balance:
        return Balance(self.debits_pending + debits_pending, self.debits_posted + debits_posted,
                       self.credits_pending + credits_pending,
                       self.credits_posted + credits_posted)
