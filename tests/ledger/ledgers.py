"""Test helpers: the same small ledger API over the pure engine and over SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ciyuan.ledger import (
    Account,
    AccountKind,
    Balance,
    LedgerState,
    Result,
    Transfer,
    apply_batch,
    expire_due,
)
from ciyuan.store import SqliteLedgerStore

SECOND_NS = 10**9
USD = 10**9  # nano-USD per USD


class MemoryLedger:
    """The pure engine with its state in a variable: the reference for store behaviour."""

    def __init__(self) -> None:
        self.state = LedgerState()

    def create_accounts(self, accounts: Sequence[Account]) -> list[Result]:
        known = dict(self.state.accounts)
        results = []
        for a in accounts:
            if a.id in known:
                results.append(Result.OK if known[a.id] == a
                               else Result.EXISTS_WITH_DIFFERENT_FIELDS)
            else:
                known[a.id] = a
                results.append(Result.OK)
        self.state = replace(self.state, accounts=known,
                             balances={i: self.state.balances.get(i, Balance()) for i in known})
        return results

    def submit(self, transfers: Sequence[Transfer], now_ns: int | None = None) -> list[Result]:
        now_ns = 0 if now_ns is None else now_ns
        touched = {t.pending_id for t in transfers if t.pending_id}
        self.state, _ = expire_due(self.state, now_ns, only=touched)
        outcome = apply_batch(self.state, transfers, now_ns)
        self.state = outcome.state
        return list(outcome.results)

    def expire(self, now_ns: int | None = None) -> int:
        self.state, effects = expire_due(self.state, 0 if now_ns is None else now_ns)
        return len(effects)

    def balances(self, ids: Sequence[str]) -> dict[str, Balance]:
        return {i: self.state.balances[i] for i in ids if i in self.state.balances}


def make_ledger(kind: str, tmp_path: Path) -> MemoryLedger | SqliteLedgerStore:
    if kind == "memory":
        return MemoryLedger()
    return SqliteLedgerStore(tmp_path / "ledger.db", clock=lambda: 0)


def standard_accounts() -> list[Account]:
    """A funding source, a wallet that must not go negative, a revenue account, a CNY
    wallet and a budget with a credit limit."""
    return [
        Account("funding", AccountKind.FUNDING, "USD", "platform"),
        Account("wallet", AccountKind.WALLET, "USD", "t1", debits_must_not_exceed_credits=True),
        Account("revenue", AccountKind.PLATFORM_REVENUE, "USD", "platform"),
        Account("cny", AccountKind.WALLET, "CNY", "t1"),
        Account("capped", AccountKind.PROVIDER_PAYABLE, "USD", "p1",
                credits_must_not_exceed_debits=True, credit_limit=5 * USD),
    ]
