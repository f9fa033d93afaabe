"""ciyuan.ledger: the double-entry ledger, as pure values and functions (no I/O).

Owns accounts, transfers, balances, result codes, the engine that applies a batch of
transfers to a state (limits, two-phase reservations, linked chains, idempotency) and the
journal's SHA-256 hash chain. In: :class:`Transfer` values from rating, budgets and admin
actions. Out: a new state plus :class:`Effect` values that a store (``ciyuan.store``) persists.
See docs/concepts/ledger.md.
"""

from ciyuan.ledger.engine import BatchOutcome, Effect, LedgerState, apply, apply_batch, expire_due
from ciyuan.ledger.journal import (
    GENESIS_HASH,
    JournalEntry,
    VerifyReport,
    canonical_json,
    chain_hash,
    verify_chain,
)
from ciyuan.ledger.model import (
    Account,
    AccountKind,
    Balance,
    PendingStatus,
    Transfer,
    TransferFlags,
)
from ciyuan.ledger.results import Result
from ciyuan.ledger.units import AMOUNT_MAX, CURRENCY_SCALES, NANO_PER_UNIT, check_amount, unit_scale

__all__ = [
    "AMOUNT_MAX",
    "CURRENCY_SCALES",
    "GENESIS_HASH",
    "NANO_PER_UNIT",
    "Account",
    "AccountKind",
    "Balance",
    "BatchOutcome",
    "Effect",
    "JournalEntry",
    "LedgerState",
    "PendingStatus",
    "Result",
    "Transfer",
    "TransferFlags",
    "VerifyReport",
    "apply",
    "apply_batch",
    "canonical_json",
    "chain_hash",
    "check_amount",
    "expire_due",
    "unit_scale",
    "verify_chain",
]
