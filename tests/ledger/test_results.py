"""One test per result code, each run on the pure engine and on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import SECOND_NS, USD, MemoryLedger

from ciyuan.ledger import Balance, Result, Transfer, TransferFlags
from ciyuan.store import SqliteLedgerStore

Ledger = MemoryLedger | SqliteLedgerStore
F = TransferFlags


def fund(ledger: Ledger, amount: int = 10 * USD) -> None:
    assert ledger.submit([Transfer("topup", "funding", "wallet", amount, "topup")]) == ["ok"]


def reserve(ledger: Ledger, tid: str = "r1", amount: int = 4 * USD, timeout_s: int = 60,
            now_ns: int = 0) -> None:
    t = Transfer(tid, "wallet", "revenue", amount, flags=F.PENDING, timeout_s=timeout_s)
    assert ledger.submit([t], now_ns=now_ns) == ["ok"]


def post(tid: str, amount: int, pending: str = "r1", flags: F = F.POST_PENDING) -> Transfer:
    return Transfer(tid, "wallet", "revenue", amount, flags=flags, pending_id=pending)


@pytest.mark.parametrize(("transfer", "expected"), [
    (Transfer("t", "wallet", "wallet", 1), Result.ACCOUNTS_MUST_BE_DIFFERENT),
    (Transfer("t", "wallet", "nobody", 1), Result.ACCOUNT_NOT_FOUND),
    (Transfer("t", "nobody", "wallet", 1), Result.ACCOUNT_NOT_FOUND),
    (Transfer("t", "funding", "cny", 1), Result.CURRENCY_MISMATCH),
    (Transfer("t", "funding", "wallet", 0), Result.AMOUNT_MUST_BE_POSITIVE),
    (Transfer("t", "funding", "wallet", -5), Result.AMOUNT_MUST_BE_POSITIVE),
    (Transfer("t", "funding", "wallet", 1, flags=F.PENDING | F.VOID_PENDING, pending_id="x"),
     Result.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
    (Transfer("t", "funding", "wallet", 1, flags=F.POST_PENDING), Result.PENDING_ID_REQUIRED),
    (Transfer("t", "funding", "wallet", 1, pending_id="x"), Result.PENDING_ID_MUST_BE_EMPTY),
    (Transfer("t", "funding", "wallet", 1, timeout_s=5), Result.TIMEOUT_RESERVED_FOR_PENDING),
    (post("t", 1, pending="nothing"), Result.PENDING_NOT_FOUND),
    (Transfer("t", "wallet", "revenue", 1, flags=F.PENDING), Result.EXCEEDS_CREDITS),
    (Transfer("t", "wallet", "revenue", 1), Result.EXCEEDS_CREDITS),
    (Transfer("t", "capped", "funding", 1), Result.OK),
])
def test_validation_codes(ledger: Ledger, transfer: Transfer, expected: Result) -> None:
    assert ledger.submit([transfer]) == [expected]


def test_exceeds_debits_respects_credit_limit(ledger: Ledger) -> None:
    assert ledger.submit([Transfer("a", "funding", "capped", 5 * USD)]) == ["ok"]
    assert ledger.submit([Transfer("b", "funding", "capped", 1)]) == [Result.EXCEEDS_DEBITS]


def test_exceeds_credits_counts_pending_debits(ledger: Ledger) -> None:
    fund(ledger)
    reserve(ledger, amount=8 * USD)
    assert ledger.submit([Transfer("x", "wallet", "revenue", 3 * USD)]) == [
        Result.EXCEEDS_CREDITS]
    assert ledger.submit([Transfer("y", "wallet", "revenue", 2 * USD)]) == ["ok"]


def test_exists_with_different_fields_and_idempotent_retry(ledger: Ledger) -> None:
    fund(ledger)
    t = Transfer("k", "wallet", "revenue", 3, metadata=(("call", "c1"),))
    assert ledger.submit([t], now_ns=1) == ["ok"]
    assert ledger.submit([t], now_ns=2) == ["ok"]  # same key, same body: no second debit
    assert ledger.balances(["wallet"])["wallet"].debits_posted == 3
    for other in (Transfer("k", "wallet", "revenue", 4), Transfer("k", "wallet", "revenue", 3)):
        assert ledger.submit([other]) == [Result.EXISTS_WITH_DIFFERENT_FIELDS]


def test_pending_not_pending(ledger: Ledger) -> None:
    fund(ledger)
    assert ledger.submit([post("p", 1, pending="topup")]) == [Result.PENDING_NOT_PENDING]


def test_post_partial_releases_the_rest_then_already_posted(ledger: Ledger) -> None:
    fund(ledger)
    reserve(ledger)
    assert ledger.submit([post("p1", 5 * USD)]) == [Result.EXCEEDS_PENDING_AMOUNT]
    assert ledger.submit([Transfer("p1", "wallet", "funding", 1, flags=F.POST_PENDING,
                                   pending_id="r1")]) == [Result.PENDING_DIFFERENT_ACCOUNTS]
    assert ledger.submit([post("p1", 3 * USD)]) == ["ok"]
    assert ledger.balances(["wallet"])["wallet"] == Balance(0, 3 * USD, 0, 10 * USD)
    assert ledger.submit([post("p2", 1)]) == [Result.PENDING_ALREADY_POSTED]
    assert ledger.submit([post("v", 4 * USD, flags=F.VOID_PENDING)]) == [
        Result.PENDING_ALREADY_POSTED]


def test_void_then_already_voided(ledger: Ledger) -> None:
    fund(ledger)
    reserve(ledger)
    assert ledger.submit([post("v", 1, flags=F.VOID_PENDING)]) == [Result.VOID_AMOUNT_MISMATCH]
    assert ledger.submit([post("v", 4 * USD, flags=F.VOID_PENDING)]) == ["ok"]
    assert ledger.balances(["wallet"])["wallet"] == Balance(0, 0, 0, 10 * USD)
    assert ledger.submit([post("p", 1)]) == [Result.PENDING_ALREADY_VOIDED]


def test_expired_pending_is_released_when_touched(ledger: Ledger) -> None:
    fund(ledger)
    reserve(ledger, timeout_s=10, now_ns=100)
    assert ledger.submit([post("p", 1)], now_ns=100 + 10 * SECOND_NS) == [Result.PENDING_EXPIRED]
    assert ledger.balances(["wallet"])["wallet"] == Balance(0, 0, 0, 10 * USD)
    assert ledger.expire(now_ns=10**15) == 0  # already released, once


def test_expire_releases_due_pendings_only(ledger: Ledger) -> None:
    fund(ledger)
    reserve(ledger, "short", 1 * USD, timeout_s=5)
    reserve(ledger, "long", 1 * USD, timeout_s=50)
    reserve(ledger, "never", 1 * USD, timeout_s=0)
    assert ledger.expire(now_ns=4 * SECOND_NS) == 0
    assert ledger.expire(now_ns=5 * SECOND_NS) == 1
    assert ledger.balances(["wallet"])["wallet"].debits_pending == 2 * USD
    assert ledger.submit([post("p", 1, pending="long")], now_ns=6 * SECOND_NS) == ["ok"]
    assert ledger.submit([post("q", 1, pending="short")], now_ns=6 * SECOND_NS) == [
        Result.PENDING_EXPIRED]


def test_linked_chain_is_all_or_nothing(ledger: Ledger) -> None:
    fund(ledger, 5)
    chain = [Transfer("a", "wallet", "revenue", 3, flags=F.LINKED),
             Transfer("b", "wallet", "revenue", 3, flags=F.LINKED),
             Transfer("c", "funding", "wallet", 1)]
    assert ledger.submit(chain) == [Result.LINKED_EVENT_FAILED, Result.EXCEEDS_CREDITS,
                                    Result.LINKED_EVENT_FAILED]
    assert ledger.balances(["wallet"])["wallet"] == Balance(0, 0, 0, 5)
    fixed = [chain[0], Transfer("b", "wallet", "revenue", 2, flags=F.LINKED), chain[2]]
    assert ledger.submit(fixed) == ["ok", "ok", "ok"]  # the failed keys were never stored
    assert ledger.balances(["wallet"])["wallet"] == Balance(0, 5, 0, 6)


def test_open_chain_at_end_of_batch(ledger: Ledger) -> None:
    fund(ledger)
    batch = [Transfer("a", "wallet", "revenue", 1),
             Transfer("b", "wallet", "revenue", 1, flags=F.LINKED),
             Transfer("c", "wallet", "revenue", 1, flags=F.LINKED)]
    assert ledger.submit(batch) == ["ok", Result.LINKED_EVENT_FAILED,
                                    Result.LINKED_EVENT_CHAIN_OPEN]
    assert ledger.balances(["wallet"])["wallet"].debits_posted == 1


def test_overflows_balance(ledger: Ledger) -> None:
    big = 2**63 - 1
    assert ledger.submit([Transfer("a", "funding", "revenue", big)]) == ["ok"]
    assert ledger.submit([Transfer("b", "funding", "revenue", 1)]) == [Result.OVERFLOWS_BALANCE]


def test_every_result_code_has_a_test() -> None:
    source = Path(__file__).read_text("utf-8")
    untested = [r.name for r in Result if r is not Result.OK and f"Result.{r.name}" not in source]
    assert not untested
