"""The gateway's pipeline over the real budgets adapter and ledger (the in-process tests
elsewhere use an in-memory fake without the turn's batching): a cancellation that reaches a
call just after its ledger write was made, and a retry with the same Idempotency-Key while
the first call is in flight, leave nothing unaccounted for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gateway_env import KEY, Env

from ciyuan.billing import Billing, Level, LevelKind, Scope
from ciyuan.core.usage import Usage
from ciyuan.gateway.metering import CallInProgressError, MeteredCall
from ciyuan.gateway.requests import ENDPOINTS
from ciyuan.gateway.wiring import BillingBudgets
from ciyuan.store import SqliteLedgerStore

pytestmark = pytest.mark.anyio
USD = 10**9
CHAT = ENDPOINTS["chat.completions"]
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
SCOPE = Scope("acme", key="k1")
USED = Usage(input_tokens=8, output_tokens=20)


class Ledgered:
    def __init__(self, env: Env, store: SqliteLedgerStore, billing: Billing) -> None:
        self.env, self.store, self.billing = env, store, billing

    def reserved_spent(self) -> tuple[int, int]:
        (status,) = self.billing.status(SCOPE)
        return status.reserved_nano, status.spent_nano

    async def prepare(self, extra: dict[str, str] | None = None, **body: object
                      ) -> MeteredCall:
        headers = {"authorization": f"Bearer {KEY}", **(extra or {})}
        return await self.env.gateway.prepare(CHAT, headers, {**BODY, **body},
                                              time.perf_counter())


@pytest.fixture()
async def ledgered(tmp_path: Path) -> AsyncIterator[Ledgered]:
    store = SqliteLedgerStore(tmp_path / "ledger.db")
    billing = Billing(store)
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "month", 10 * USD, "USD")
    env = Env()
    env.gateway.budgets = BillingBudgets(billing)
    yield Ledgered(env, store, billing)
    await env.aclose()
    store.close()


async def _cancelled_after_its_flush(task: asyncio.Task[object]) -> None:
    await asyncio.sleep(0)  # the task waits for the turn's flush, which is queued
    asyncio.get_running_loop().call_soon(task.cancel)  # lands right after the flush
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_call_cancelled_after_its_reservation_is_left_pending_for_reconcile(
        ledgered: Ledgered) -> None:
    task = asyncio.ensure_future(ledgered.prepare())
    await _cancelled_after_its_flush(task)  # type: ignore[arg-type]
    reserved, _ = ledgered.reserved_spent()
    records = list(ledgered.env.usage.records.values())
    # the hold has its write-ahead record: reconcile finds the call pending and closes it
    # (never served) with its hold; without the record nothing would ever release the hold
    assert reserved > 0 and [r.status for r in records] == ["pending"]
    assert records[0].reservation_id.startswith("rsv-")


async def test_a_call_cancelled_after_its_settlement_is_completed(ledgered: Ledgered) -> None:
    call = await ledgered.prepare()
    route = call.routes[0]
    task = asyncio.ensure_future(ledgered.env.gateway.finish(
        call, route, USED, "reported", 20, "0" * 64, "req-1"))
    await _cancelled_after_its_flush(task)  # type: ignore[arg-type]
    record = ledgered.env.usage.records[call.record.id]
    assert record.status == "completed" and record.charge_nano > 0
    assert ledgered.reserved_spent() == (0, record.charge_nano)


async def test_a_retry_while_the_first_call_is_in_flight_leaves_its_hold(
        ledgered: Ledgered) -> None:
    key = {"idempotency-key": "order-42"}
    first = await ledgered.prepare(key)
    held = ledgered.reserved_spent()
    with pytest.raises(CallInProgressError, match="already pending"):
        await ledgered.prepare(key)
    with pytest.raises(CallInProgressError, match="already pending"):  # not a ledger conflict
        await ledgered.prepare(key, max_tokens=50)  # another ceiling: another hold amount
    assert ledgered.reserved_spent() == held  # the first call is still held
    record, _ = await ledgered.env.gateway.finish(first, first.routes[0], USED, "reported", 20,
                                                  "0" * 64)
    assert ledgered.reserved_spent() == (0, record.charge_nano)  # billed once, in full
    with pytest.raises(CallInProgressError, match="already completed"):
        await ledgered.prepare(key)
    assert ledgered.reserved_spent() == (0, record.charge_nano)
    assert ledgered.store.verify().ok


async def test_a_retry_in_the_same_turn_as_the_first_call_leaves_its_hold(
        ledgered: Ledgered) -> None:
    key = {"idempotency-key": "order-43"}
    outcomes = await asyncio.gather(ledgered.prepare(key), ledgered.prepare(key),
                                    return_exceptions=True)
    calls = [o for o in outcomes if isinstance(o, MeteredCall)]
    assert len(calls) == 1 and sum(isinstance(o, CallInProgressError) for o in outcomes) == 1
    assert ledgered.reserved_spent()[0] == calls[0].reservation.amount_nano  # type: ignore[union-attr]
    record, _ = await ledgered.env.gateway.finish(calls[0], calls[0].routes[0], USED,
                                                  "reported", 20, "0" * 64)
    assert ledgered.reserved_spent() == (0, record.charge_nano)
