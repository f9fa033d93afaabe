"""The ledger writes of one loop turn go in one submit (``ciyuan.gateway.ledger_turn``), with
each call's outcome what it would have been on its own: budgets never overshoot inside a
batch, an error reaches only its own call, a batch stays under its bound."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ciyuan.billing import Billing, Level, LevelKind, Scope
from ciyuan.gateway.errors import BudgetExceededError
from ciyuan.gateway.ledger_turn import LedgerTurn
from ciyuan.gateway.ports import Principal, Reservation
from ciyuan.gateway.wiring import BillingBudgets
from ciyuan.ledger import Result, Transfer, TransferFlags
from ciyuan.store import SqliteLedgerStore

pytestmark = pytest.mark.anyio
USD = 10**9
AT = dt.datetime(2026, 11, 5, 8, 0, tzinfo=dt.UTC)
CALLER = Principal(tenant="acme", key_id="k1", team="research")
SCOPE = Scope("acme", team="research", key="k1")


class CountingStore(SqliteLedgerStore):
    """Records the size of every submit."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sizes: list[int] = []

    def submit(self, transfers: Sequence[Transfer], now_ns: int | None = None) -> list[Result]:
        self.sizes.append(len(transfers))
        return super().submit(transfers, now_ns)


def _billing(path: Path, month_usd: int = 10, day_usd: int = 2
             ) -> tuple[CountingStore, Billing, BillingBudgets]:
    store = CountingStore(path)
    billing = Billing(store, now=lambda: AT)
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "month", month_usd * USD, "USD", at=AT)
    billing.set_budget(Level(LevelKind.TEAM, "acme", "research"), "day", day_usd * USD, "USD",
                       at=AT)
    store.sizes.clear()
    return store, billing, BillingBudgets(billing)


async def _outcome(budgets: BillingBudgets, reservation_id: str, amount: int
                   ) -> Reservation | None:
    try:
        return await budgets.reserve(CALLER, reservation_id, amount, "USD")
    except BudgetExceededError:
        return None


async def test_reservations_of_one_turn_share_a_submit_and_never_overshoot(
        tmp_path: Path) -> None:
    store, billing, budgets = _billing(tmp_path / "l.db")  # the team's 2 USD a day bind
    held = await asyncio.gather(*(_outcome(budgets, f"rsv-{n}", USD * 6 // 10)
                                  for n in range(8)))
    assert store.sizes == [2 * 8]  # two levels a call, eight calls, one submit
    assert [h is not None for h in held] == [True] * 3 + [False] * 5  # 3 x 0.6 fit in 2
    statuses = billing.status(SCOPE, at=AT)
    assert {s.reserved_nano for s in statuses} == {3 * USD * 6 // 10}
    await asyncio.gather(*(budgets.settle(h, USD // 10) for h in held if h is not None))
    assert store.sizes[1:] == [2 * 3]  # the three settlements: one submit
    assert {(s.reserved_nano, s.spent_nano) for s in billing.status(SCOPE, at=AT)} == {
        (0, 3 * USD // 10)}
    assert store.verify().ok
    store.close()


async def test_an_error_in_one_write_reaches_only_its_call() -> None:
    made: list[list[str]] = []

    def submit(transfers: Sequence[Transfer]) -> list[Result]:
        made.append([t.id for t in transfers])
        if any(t.id == "bad" for t in transfers):
            raise RuntimeError("the store failed")
        return [Result.OK] * len(transfers)

    turn = LedgerTurn(submit)
    plain = [Transfer(i, "a", "b", 1) for i in ("x", "bad", "y")]
    got = await asyncio.gather(*(turn.submit([t]) for t in plain), return_exceptions=True)
    assert got[0] == [Result.OK] and got[2] == [Result.OK]
    assert isinstance(got[1], RuntimeError)
    assert made == [["x", "bad", "y"], ["x"], ["bad"], ["y"]]  # the batch, then one by one


async def test_a_busy_turn_flushes_in_bounded_batches_without_splitting_a_write() -> None:
    sizes: list[int] = []

    def submit(transfers: Sequence[Transfer]) -> list[Result]:
        sizes.append(len(transfers))
        return [Result.OK] * len(transfers)

    turn = LedgerTurn(submit, max_transfers=3)
    writes = [[Transfer(f"t{n}-{k}", "a", "b", 1) for k in range(1 + n % 2)]
              for n in range(6)]  # 1, 2, 1, 2, 1, 2 transfers
    got = await asyncio.gather(*(turn.submit(w) for w in writes))
    assert [len(r) for r in got] == [len(w) for w in writes]
    assert sizes == [3, 3, 3] and max(sizes) <= 3
    assert (turn.submits, turn.transfers) == (3, 9)


def _recording(made: list[str]) -> LedgerTurn:
    """A turn whose ledger accepts everything and notes the ids it was given."""

    def submit(transfers: Sequence[Transfer]) -> list[Result]:
        made.extend(t.id for t in transfers)
        return [Result.OK] * len(transfers)

    return LedgerTurn(submit)


async def test_a_write_cancelled_before_its_flush_is_not_made() -> None:
    made: list[str] = []
    turn = _recording(made)
    first = asyncio.ensure_future(turn.submit([Transfer("kept", "a", "b", 1)]))
    second = asyncio.ensure_future(turn.submit([Transfer("dropped", "a", "b", 1)]))
    await asyncio.sleep(0)  # both are waiting for the flush
    second.cancel()
    assert await first == [Result.OK]
    with pytest.raises(asyncio.CancelledError):
        await second
    assert made == ["kept"]


async def test_a_write_made_before_a_cancellation_reaches_its_task_is_handed_back() -> None:
    made: list[str] = []
    turn = _recording(made)
    got: list[object] = []

    async def caller() -> None:
        got.append(await turn.submit([Transfer("made", "a", "b", 1)]))
        got.append(asyncio.current_task().cancelling())  # type: ignore[union-attr]
        await asyncio.sleep(0)  # the cancellation lands here, at the next await
        got.append("not reached")

    task = asyncio.ensure_future(caller())
    await asyncio.sleep(0)  # the caller waits for the flush, which is queued
    asyncio.get_running_loop().call_soon(task.cancel)  # runs right after the flush
    with pytest.raises(asyncio.CancelledError):
        await task
    assert made == ["made"]
    assert got == [[Result.OK], 1]  # the results, and one cancellation request, not two


async def test_a_write_that_leaves_its_chain_open_is_refused() -> None:
    turn = LedgerTurn(lambda transfers: [Result.OK] * len(transfers))
    linked = TransferFlags.LINKED
    with pytest.raises(ValueError, match="linked chain open"):
        await turn.submit([Transfer("a", "x", "y", 1, flags=linked),
                           Transfer("b", "x", "y", 1, flags=linked)])
    assert await turn.submit([Transfer("a", "x", "y", 1, flags=linked),
                              Transfer("b", "x", "y", 1)]) == [Result.OK, Result.OK]


async def test_each_turn_flushes_by_itself() -> None:
    sizes: list[int] = []

    def submit(transfers: Sequence[Transfer]) -> list[Result]:
        sizes.append(len(transfers))
        return [Result.OK] * len(transfers)

    turn = LedgerTurn(submit)
    for n in range(3):  # one write a turn: three submits, nothing left waiting
        assert await turn.submit([Transfer(f"t{n}", "a", "b", 1)]) == [Result.OK]
    assert sizes == [1, 1, 1]
    assert await turn.submit([]) == [] and sizes == [1, 1, 1]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amounts=st.lists(st.integers(1, 15), min_size=1, max_size=10),
       settle=st.lists(st.integers(0, 100), min_size=10, max_size=10))
def test_a_turn_ends_where_the_same_calls_one_at_a_time_end(
        amounts: list[int], settle: list[int]) -> None:
    """Gathered or one by one: the same calls fit, and the ledger ends in the same state."""
    async def run(gathered: bool, path: Path) -> tuple[list[bool], list[tuple[int, int]]]:
        store, billing, budgets = _billing(path, month_usd=5, day_usd=3)
        wanted = [(f"rsv-{n}", a * USD // 10) for n, a in enumerate(amounts)]
        if gathered:
            held = await asyncio.gather(*(_outcome(budgets, i, a) for i, a in wanted))
        else:
            held = [await _outcome(budgets, i, a) for i, a in wanted]
        live = [(h, s) for h, s in zip(held, settle, strict=False) if h is not None]
        posts = [budgets.settle(h, h.amount_nano * s // 100) for h, s in live]
        if gathered:
            await asyncio.gather(*posts)
        else:
            for post in posts:
                await post
        ended = [(s.reserved_nano, s.spent_nano) for s in billing.status(SCOPE, at=AT)]
        assert store.verify().ok
        store.close()
        return [h is not None for h in held], ended

    with tempfile.TemporaryDirectory() as home:
        together = asyncio.run(run(True, Path(home) / "together.db"))
        alone = asyncio.run(run(False, Path(home) / "alone.db"))
    assert together == alone


def test_a_turn_submits_the_callers_transfers_in_their_order() -> None:
    """What the turn submits is the callers' transfers, in their order."""
    seen: list[Transfer] = []

    def submit(transfers: Sequence[Transfer]) -> list[Result]:
        seen.extend(transfers)
        return [Result.OK] * len(transfers)

    chain = [Transfer("h1", "a", "b", 5, flags=TransferFlags.PENDING | TransferFlags.LINKED),
             Transfer("h2", "c", "d", 5, flags=TransferFlags.PENDING)]

    async def main() -> None:
        turn = LedgerTurn(submit)
        await asyncio.gather(turn.submit(chain), turn.submit([Transfer("p", "a", "b", 1)]))

    asyncio.run(main())
    assert seen == [*chain, Transfer("p", "a", "b", 1)]
