"""The gateway's budgets adapter: a reservation settled in the process that made it needs
no ledger look-up, and ends in the same ledger state as one whose holds are looked up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pytest

from ciyuan.billing import Billing, Level, LevelKind, Scope
from ciyuan.gateway.ports import Principal, Reservation
from ciyuan.gateway.wiring import BillingBudgets
from ciyuan.ledger import Transfer
from ciyuan.store import SqliteLedgerStore

USD = 10**9
AT = dt.datetime(2026, 11, 5, 8, 0, tzinfo=dt.UTC)
CALLER = Principal(tenant="acme", key_id="k1", team="research")
pytestmark = pytest.mark.anyio


class CountingStore(SqliteLedgerStore):
    """Counts look-ups of transfers by id (how billing finds a reservation's holds)."""

    lookups = 0

    def transfers(self, transfer_ids: Iterable[str]) -> dict[str, Transfer]:
        self.lookups += 1
        return super().transfers(transfer_ids)


def _budgets(tmp_path: Path) -> tuple[CountingStore, Billing, BillingBudgets]:
    store = CountingStore(tmp_path / "ledger.db")
    billing = Billing(store, now=lambda: AT)
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "month", 10 * USD, "USD", at=AT)
    billing.set_budget(Level(LevelKind.TEAM, "acme", "research"), "day", 2 * USD, "USD", at=AT)
    return store, billing, BillingBudgets(billing)


async def test_settling_own_reservation_skips_the_lookup_and_matches(tmp_path: Path) -> None:
    store, billing, budgets = _budgets(tmp_path)
    own = await budgets.reserve(CALLER, "rsv-own", USD // 2, "USD")
    other = await budgets.reserve(CALLER, "rsv-bare", USD // 2, "USD")
    assert own.detail is not None and own == Reservation("rsv-own", USD // 2, "USD")
    before = store.lookups
    await budgets.settle(own, USD // 5)
    assert store.lookups == before  # the holds came with the reservation
    budgets.settle_now(Reservation(other.id, other.amount_nano, other.currency), USD // 5)
    assert store.lookups > before  # a bare reservation: its holds are looked up
    scope = Scope("acme", team="research", key="k1")
    for status in billing.status(scope, at=AT):
        assert status.spent_nano == 2 * (USD // 5) and status.reserved_nano == 0
    settled = store.transfers([f"rsv-own:{label}" for label in ("tenant-month", "team-day")])
    bare = store.transfers([f"rsv-bare:{label}" for label in ("tenant-month", "team-day")])
    assert len(settled) == len(bare) == 2
    store.close()


async def test_release_of_own_reservation_frees_every_level(tmp_path: Path) -> None:
    store, billing, budgets = _budgets(tmp_path)
    held = await budgets.reserve(CALLER, "rsv-1", USD, "USD")
    budgets.release(held)
    for status in billing.status(Scope("acme", team="research", key="k1"), at=AT):
        assert status.reserved_nano == 0 and status.spent_nano == 0
    store.close()


async def test_holds_past_their_timeout_are_released_by_the_next_sweep(tmp_path: Path) -> None:
    clock_ns = [1_800_000_000 * 10**9]  # the ledger's clock
    ticks = [0.0]  # the sweep's (monotonic) clock
    store = SqliteLedgerStore(tmp_path / "ledger.db", clock=lambda: clock_ns[0])
    billing = Billing(store, now=lambda: AT)
    billing.set_budget(Level(LevelKind.TENANT, "acme"), "month", 10 * USD, "USD", at=AT)
    billing.set_budget(Level(LevelKind.TEAM, "acme", "research"), "day", 2 * USD, "USD", at=AT)
    budgets = BillingBudgets(billing, sweep_every_s=60, monotonic=lambda: ticks[0])
    scope = Scope("acme", team="research", key="k1")
    # a hold nobody will settle or release (its gateway was killed before its usage record)
    await budgets.reserve(CALLER, "rsv-orphan", USD, "USD")
    clock_ns[0] += 16 * 60 * 10**9  # past its 15-minute timeout
    ticks[0] = 30.0  # but not yet a sweep interval later
    live = await budgets.reserve(CALLER, "rsv-live", USD // 2, "USD")
    assert {s.reserved_nano for s in billing.status(scope, at=AT)} == {USD + USD // 2}
    assert budgets.expired == 0
    ticks[0] = 61.0
    await budgets.reserve(CALLER, "rsv-next", USD // 4, "USD")  # sweeps first
    assert budgets.expired == 2  # the orphan's two holds (tenant month, team day)
    assert {s.reserved_nano for s in billing.status(scope, at=AT)} == {USD // 2 + USD // 4}
    await budgets.settle(live, USD // 5)  # a live call's hold was not touched
    assert store.verify().ok
    store.close()
