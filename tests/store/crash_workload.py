"""The crash test's workload: deterministic batches, so a test can recompute what a killed
writer attempted, and an in-memory reference that says what each batch must return.

Batch ``i`` holds 1-4 units; each unit is a linked top-up + spend pair, a reservation, the
post (odd ``i``) or void (even ``i``) of the same unit's reservation in batch ``i - 1``, a
second resolve of that reservation (refused: already posted/voided) and a linked chain whose
second leg exceeds the budget (refused, so the first leg is rolled back too). Every tenth
batch adds 100 small transfers, so that some kills land inside a long transaction. No
transfer has a timeout, so results do not depend on the clock; every refusal stays a refusal
when retried, so re-submitting any batch must return the same results and change nothing.
"""

from __future__ import annotations

from ciyuan.ledger import (
    Account,
    AccountKind,
    Balance,
    LedgerState,
    PendingStatus,
    Result,
    Transfer,
    TransferFlags,
    apply_batch,
)

F = TransferFlags
ACCOUNTS = [
    Account("funding", AccountKind.FUNDING, "USD", "platform"),
    Account("wallet", AccountKind.WALLET, "USD", "t1", debits_must_not_exceed_credits=True),
    Account("budget", AccountKind.BUDGET, "USD", "t1", debits_must_not_exceed_credits=True),
    Account("revenue", AccountKind.PLATFORM_REVENUE, "USD", "platform"),
]
#: A big batch every this many batches.
BIG_EVERY, BIG_SIZE = 10, 100


def units(i: int) -> int:
    return 1 + (i * 7) % 4


def batch(i: int) -> list[Transfer]:
    """Batch ``i``: the same transfers (ids and fields) every time it is built."""
    out: list[Transfer] = []
    for u in range(units(i)):
        key = f"b{i}.{u}"
        out += [Transfer(f"{key}:top", "funding", "wallet", 1000, flags=F.LINKED),
                Transfer(f"{key}:spend", "wallet", "revenue", 300),
                Transfer(f"{key}:hold", "wallet", "revenue", 500, flags=F.PENDING)]
        if i > 0 and u < units(i - 1):
            held = f"b{i - 1}.{u}:hold"
            post = i % 2 == 1
            out += [Transfer(f"{key}:resolve", "wallet", "revenue", 200 if post else 500,
                             flags=F.POST_PENDING if post else F.VOID_PENDING, pending_id=held),
                    Transfer(f"{key}:again", "wallet", "revenue", 1, flags=F.POST_PENDING,
                             pending_id=held)]
        out += [Transfer(f"{key}:fund", "funding", "budget", 10, flags=F.LINKED),
                Transfer(f"{key}:over", "budget", "revenue", 10**15)]
    if i % BIG_EVERY == BIG_EVERY - 1:
        out += [Transfer(f"b{i}.big{n}", "funding", "revenue", 1) for n in range(BIG_SIZE)]
    return out


class Reference:
    """The pure engine applied to the same batches: the state a correct store must reach.

    Like a store, it hands the engine only the slice of the state a batch touches, so each
    batch costs time in proportion to its size, not to the history.
    """

    def __init__(self) -> None:
        self.accounts = {a.id: a for a in ACCOUNTS}
        self.balances = {a.id: Balance() for a in ACCOUNTS}
        self.transfers: dict[str, Transfer] = {}
        self.pendings: dict[str, PendingStatus] = {}

    def submit(self, transfers: list[Transfer]) -> list[Result]:
        ids = {t.id for t in transfers} | {t.pending_id for t in transfers if t.pending_id}
        state = LedgerState(
            self.accounts, self.balances,
            {i: self.transfers[i] for i in ids if i in self.transfers},
            {i: self.pendings[i] for i in ids if i in self.pendings})
        outcome = apply_batch(state, transfers, 0)
        self.balances = dict(outcome.state.balances)
        self.transfers.update(outcome.state.transfers)
        self.pendings.update(outcome.state.pendings)
        return list(outcome.results)
