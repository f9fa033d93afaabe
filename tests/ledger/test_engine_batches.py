"""The pure engine over whole batches: chains end where they end, and undo in linear time."""

from __future__ import annotations

import time

from ciyuan.ledger import (
    Account,
    AccountKind,
    Balance,
    LedgerState,
    Result,
    Transfer,
    TransferFlags,
    apply_batch,
    expire_due,
)

F = TransferFlags
STATE = LedgerState(
    accounts={"funding": Account("funding", AccountKind.FUNDING, "USD", "p"),
              "w": Account("w", AccountKind.WALLET, "USD", "t",
                           debits_must_not_exceed_credits=True)},
    balances={"w": Balance(credits_posted=100)})
#: A store's largest batch (ciyuan.store.protocol.MAX_BATCH).
BIG = 8_190
#: Far above the linear cost (~0.1 s here); the quadratic undo this guards against took minutes.
BIG_CHAIN_MAX_S = 5.0


def test_a_transfer_after_a_failed_chain_is_applied_on_its_own() -> None:
    """Regression: a failed chain's state once leaked into the next, unlinked transfer."""
    t0 = Transfer("t0", "funding", "w", 1, flags=F.LINKED)
    chain = [t0, t0, Transfer("t0", "funding", "w", 1)]  # the last one changes the body
    alone = Transfer("t0", "funding", "w", 1)
    outcome = apply_batch(STATE, [*chain, alone], now_ns=5)
    assert outcome.results == (Result.LINKED_EVENT_FAILED, Result.LINKED_EVENT_FAILED,
                               Result.EXISTS_WITH_DIFFERENT_FIELDS, Result.OK)
    assert [e.transfer for e in outcome.effects] == [alone.stamped(5)]
    assert outcome.state.balances["w"] == Balance(credits_posted=101)


def test_a_batch_long_chain_that_fails_at_its_end_leaves_nothing() -> None:
    legs = [Transfer(f"p{i}", "funding", "w", 1, flags=F.LINKED | F.PENDING, timeout_s=9)
            for i in range(BIG - 2)]
    posts = [Transfer("post", "funding", "w", 1, flags=F.LINKED | F.POST_PENDING,
                      pending_id="p0"),
             Transfer("over", "w", "funding", 10**6)]  # more than w holds: the chain fails
    started = time.perf_counter()
    outcome = apply_batch(STATE, [*legs, *posts], now_ns=5)
    assert time.perf_counter() - started < BIG_CHAIN_MAX_S
    assert outcome.results[-1] is Result.EXCEEDS_CREDITS
    assert set(outcome.results[:-1]) == {Result.LINKED_EVENT_FAILED}
    assert outcome.effects == ()
    assert outcome.state.balances == STATE.balances
    assert dict(outcome.state.transfers) == {} and dict(outcome.state.pendings) == {}


def test_a_pending_named_twice_expires_once() -> None:
    """Regression (found by tests/store/test_ledger_native.py): ``only`` listing a pending
    twice released its amount twice, driving the pending balances below zero."""
    hold = Transfer("h", "w", "funding", 30, flags=F.PENDING, timeout_s=1)
    held = apply_batch(STATE, [hold], now_ns=0).state
    state, effects = expire_due(held, now_ns=2 * 10**9, only=["h", "h"])
    assert [e.kind for e in effects] == ["expiry"]
    assert state.balances["w"] == Balance(credits_posted=100)
