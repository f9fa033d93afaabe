"""Budgets: periods in time zones, levels, the pure planners, and ``Billing`` on both stores.

The service tests run on SQLite and, when ``CIYUAN_TEST_PG`` is set (e.g.
``postgresql://postgres@127.0.0.1:5432/test``), on PostgreSQL in a schema of their own.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.billing import (
    Billing,
    Level,
    LevelKind,
    Reservation,
    Scope,
    period_at,
    period_of,
    plan_reserve,
    plan_settle,
)
from ciyuan.billing.errors import (
    BudgetCurrencyError,
    BudgetInvalidError,
    BudgetLevelExceededError,
    BudgetTimeZoneChangeError,
    ReservationClosedError,
    ReservationInvalidError,
    UnknownTimeZoneError,
)
from ciyuan.ledger import Result, TransferFlags
from ciyuan.store import LedgerStore, SqliteLedgerStore

PG_URL = os.environ.get("CIYUAN_TEST_PG", "")
AT = dt.datetime(2026, 11, 5, 8, 0, tzinfo=dt.UTC)
USD = 10**9
ACME = Level(LevelKind.TENANT, "acme")
RESEARCH = Level(LevelKind.TEAM, "acme", "research")
BOT = Level(LevelKind.AGENT, "acme", "bot")
K1 = Level(LevelKind.KEY, "acme", "k1")
CALL = Scope("acme", team="research", agent="bot", key="k1")
ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
         "America/Santiago", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu"]


# -- periods --------------------------------------------------------------------------------

def test_month_and_day_keys_follow_the_time_zone() -> None:
    late = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # 01:00 on Dec 1 in Shanghai
    assert period_at("month", late, "UTC").key == "2026-11"
    shanghai = period_at("month", late, "Asia/Shanghai")
    assert shanghai.key == "2026-12"
    assert shanghai.start == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)
    assert shanghai.end == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    assert period_of("day", "2026-11-05", "Asia/Shanghai").start == dt.datetime(
        2026, 11, 4, 16, tzinfo=dt.UTC)


def test_days_around_dst_changes_are_23_and_25_hours() -> None:
    spring = period_of("day", "2026-03-08", "America/New_York")
    autumn = period_of("day", "2026-11-01", "America/New_York")
    assert spring.end - spring.start == dt.timedelta(hours=23)
    assert autumn.end - autumn.start == dt.timedelta(hours=25)
    gap = period_of("day", "2026-09-06", "America/Santiago")  # midnight does not exist
    assert gap.start == dt.datetime(2026, 9, 6, 4, tzinfo=dt.UTC)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2060, 1, 1),
                    timezones=st.just(dt.UTC)),
       st.sampled_from(ZONES), st.sampled_from(["day", "month"]))
def test_periods_tile_time(at: dt.datetime, tz: str, kind: str) -> None:
    period = period_at(kind, at, tz)
    assert period.start <= at < period.end
    assert period_at(kind, period.end, tz).start == period.end
    assert period_of(kind, period.key, tz) == period


def test_bad_zones_keys_and_names_are_typed_errors() -> None:
    for tz in ("Mars/Olympus", "../etc/passwd", "", "Asia/Shanghai "):
        with pytest.raises(UnknownTimeZoneError, match="IANA"):
            period_at("day", AT, tz)
    with pytest.raises(BudgetInvalidError, match="'day' or 'month'"):
        period_at("week", AT, "UTC")
    with pytest.raises(BudgetInvalidError, match="2026-11-05"):
        period_of("day", "2026-11", "UTC")
    with pytest.raises(BudgetInvalidError, match="aware"):
        period_at("day", dt.datetime(2026, 1, 1), "UTC")
    for bad in ("", "a:b", "有 空格", "x" * 65):
        with pytest.raises(BudgetInvalidError):
            Level(LevelKind.TEAM, "acme", bad)


def test_scope_levels_nest_from_the_tenant_inwards() -> None:
    assert CALL.levels() == (ACME, RESEARCH, BOT, K1)
    assert Scope("acme", key="k1").levels() == (ACME, K1)
    assert [lv.path for lv in CALL.levels()] == [
        "tenant:acme", "team:acme:research", "agent:acme:bot", "key:acme:k1"]


# -- pure planners --------------------------------------------------------------------------

def test_reserve_plans_one_linked_pending_chain() -> None:
    from ciyuan.billing import Hold

    holds = [Hold(f"r:{n}", f"budget:{n}", f"budget:{n}:used", n) for n in "abc"]
    transfers = plan_reserve("r", 5, holds, 60)
    assert [t.flags for t in transfers] == [TransferFlags.PENDING | TransferFlags.LINKED] * 2 + [
        TransferFlags.PENDING]
    assert {t.amount for t in transfers} == {5} and {t.timeout_s for t in transfers} == {60}
    reservation = Reservation("r", 5, "USD", tuple(holds))
    posts = plan_settle(reservation, 3)
    assert [t.pending_id for t in posts] == ["r:a", "r:b", "r:c"]
    assert TransferFlags.LINKED not in posts[-1].flags
    voids = plan_settle(reservation, 0)
    assert {t.amount for t in voids} == {5} and all(
        TransferFlags.VOID_PENDING in t.flags for t in voids)
    with pytest.raises(ReservationInvalidError, match="0 .. 5"):
        plan_settle(reservation, 6)
    with pytest.raises(ReservationInvalidError, match="positive"):
        plan_reserve("r", 0, holds, 60)


# -- the service, on SQLite and PostgreSQL -----------------------------------------------

def _open_store(kind: str, tmp_path: Path) -> tuple[LedgerStore, str]:
    if kind == "sqlite":
        return SqliteLedgerStore(tmp_path / "ledger.db"), ""
    if not PG_URL:
        pytest.skip("PostgreSQL billing tests need CIYUAN_TEST_PG="
                    "postgresql://postgres@127.0.0.1:5432/test")
    from ciyuan.store.postgres_ledger import PostgresLedgerStore

    schema = f"test_billing_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    return PostgresLedgerStore(PG_URL, schema=schema), schema


def _drop(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def billing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Billing]:
    store, schema = _open_store(request.param, tmp_path)
    yield Billing(store, now=lambda: AT)
    store.close()
    if schema:
        _drop(schema)


def _levels(billing: Billing) -> dict[str, tuple[int, int, int]]:
    return {f"{s.level.path}/{s.period.kind}": (s.limit_nano, s.spent_nano, s.reserved_nano)
            for s in billing.status(CALL)}


def test_a_call_must_fit_every_level_that_exists(billing: Billing) -> None:
    billing.set_budget(ACME, "month", 100 * USD, "USD", "Asia/Shanghai")
    billing.set_budget(RESEARCH, "day", 10 * USD, "USD", "Asia/Shanghai")
    billing.set_budget(K1, "month", 3 * USD, "USD", "Asia/Shanghai")
    r = billing.reserve(CALL, "rsv-1", 2 * USD, "USD")
    assert [h.label for h in r.holds] == ["tenant-month", "team-day", "key-month"]
    with pytest.raises(BudgetLevelExceededError, match=r"key:acme:k1:2026-11 \(1 USD left"):
        billing.reserve(CALL, "rsv-2", 2 * USD, "USD")
    # the refused chain left nothing behind at the levels it did fit
    assert _levels(billing)["tenant:acme/month"] == (100 * USD, 0, 2 * USD)
    other_key = billing.reserve(Scope("acme", team="research", key="k2"), "rsv-3", 8 * USD,
                                "USD")
    with pytest.raises(BudgetLevelExceededError, match="team:acme:research:2026-11-05"):
        billing.reserve(Scope("acme", team="research", key="k3"), "rsv-4", USD, "USD")
    billing.settle(r, USD // 2)
    billing.settle(r, USD // 2)  # a retry posts nothing twice
    assert billing.release(other_key)
    assert _levels(billing) == {
        "tenant:acme/month": (100 * USD, USD // 2, 0),
        "team:acme:research/day": (10 * USD, USD // 2, 0),
        "key:acme:k1/month": (3 * USD, USD // 2, 0)}
    assert billing._store.verify().ok  # type: ignore[attr-defined]


def test_reserve_is_idempotent_and_settle_checks_the_amount(billing: Billing) -> None:
    billing.set_budget(ACME, "day", 5 * USD, "USD")
    first = billing.reserve(CALL, "rsv-1", 2 * USD, "USD")
    assert billing.reserve(CALL, "rsv-1", 2 * USD, "USD") == first
    assert _levels(billing)["tenant:acme/day"][2] == 2 * USD
    with pytest.raises(ReservationInvalidError, match="exists with other fields"):
        billing.reserve(CALL, "rsv-1", 3 * USD, "USD")
    with pytest.raises(ReservationInvalidError, match="reserved amount"):
        billing.settle(first, 3 * USD)
    billing.settle(first, USD)
    with pytest.raises(ReservationInvalidError):
        billing.settle(first, 2 * USD)  # settled before with another amount
    assert not billing.release(first)


def test_settle_by_reference_finds_the_holds(billing: Billing) -> None:
    billing.set_budget(ACME, "month", 5 * USD, "USD")
    billing.set_budget(BOT, "day", 5 * USD, "USD")
    billing.reserve(CALL, "rsv-9", 2 * USD, "USD")
    found = billing.find_reservation("rsv-9", "USD")
    assert found is not None and {h.label for h in found.holds} == {"tenant-month", "agent-day"}

    class GatewayReservation:  # what the gateway keeps: id, amount, currency
        id, amount_nano, currency = "rsv-9", 2 * USD, "USD"

    billing.settle(GatewayReservation(), USD)
    assert _levels(billing)["agent:acme:bot/day"] == (5 * USD, USD, 0)
    assert billing.find_reservation("nothing", "USD") is None


def test_expired_reservations_are_released_by_the_ledger(tmp_path: Path) -> None:
    clock = [0]
    store = SqliteLedgerStore(tmp_path / "l.db", clock=lambda: clock[0])
    billing = Billing(store, now=lambda: AT)
    billing.set_budget(ACME, "month", 5 * USD, "USD")
    r = billing.reserve(CALL, "rsv-1", 4 * USD, "USD", timeout_s=60)
    with pytest.raises(BudgetLevelExceededError):
        billing.reserve(CALL, "rsv-2", 4 * USD, "USD")
    clock[0] = 61 * 10**9
    with pytest.raises(ReservationClosedError, match="expired"):
        billing.settle(r, USD)
    billing.reserve(CALL, "rsv-2", 4 * USD, "USD")
    store.close()


def test_changing_a_budget_adjusts_the_open_period(billing: Billing) -> None:
    billing.set_budget(ACME, "month", 10 * USD, "USD", "Asia/Shanghai")
    billing.settle(billing.reserve(CALL, "a", 6 * USD, "USD"), 6 * USD)
    held = billing.reserve(CALL, "b", 2 * USD, "USD")
    billing.set_budget(ACME, "month", 7 * USD, "USD", "Asia/Shanghai")  # takes back the 2 free
    assert _levels(billing)["tenant:acme/month"] == (8 * USD, 6 * USD, 2 * USD)
    billing.set_budget(ACME, "month", 5 * USD, "USD", "Asia/Shanghai")  # nothing free
    billing.release(held)
    status = billing.status(CALL)[0]
    assert (status.limit_nano, status.available_nano) == (8 * USD, 2 * USD)
    billing.set_budget(ACME, "month", 5 * USD, "USD", "Asia/Shanghai")  # again: 2 now free
    assert billing.status(CALL)[0].limit_nano == 6 * USD
    billing.set_budget(ACME, "month", 6 * USD, "USD", "Asia/Shanghai")
    assert billing.status(CALL)[0].limit_nano == 6 * USD
    billing.set_budget(ACME, "month", 20 * USD, "USD", "Asia/Shanghai")
    assert billing.status(CALL)[0].available_nano == 14 * USD
    assert [b.revision for b in billing.budgets(CALL)] == [5]
    assert billing.set_budget(ACME, "month", 20 * USD, "USD", "Asia/Shanghai").revision == 5
    with pytest.raises(BudgetTimeZoneChangeError, match="Asia/Shanghai"):
        billing.set_budget(ACME, "month", 20 * USD, "USD", "UTC")
    with pytest.raises(BudgetCurrencyError, match="USD"):
        billing.set_budget(ACME, "month", 20 * USD, "CNY", "Asia/Shanghai")


def test_each_period_is_funded_on_first_use(billing: Billing) -> None:
    billing.set_budget(RESEARCH, "day", 3 * USD, "USD", "Asia/Shanghai", at=AT)
    billing.settle(billing.reserve(CALL, "d1", 3 * USD, "USD", at=AT), 3 * USD)
    with pytest.raises(BudgetLevelExceededError):
        billing.reserve(CALL, "d2", USD, "USD", at=AT)
    tomorrow = AT + dt.timedelta(days=1)
    r = billing.reserve(CALL, "d3", 3 * USD, "USD", at=tomorrow)
    assert r.holds[0].debit_account_id == "budget:team:acme:research:2026-11-06"
    statuses = billing.status(CALL, at=tomorrow + dt.timedelta(days=1))
    assert [(s.period.key, s.opened, s.available_nano) for s in statuses] == [
        ("2026-11-07", False, 3 * USD)]


def test_budgets_in_another_currency_refuse_the_call(billing: Billing) -> None:
    billing.set_budget(ACME, "month", 10 * USD, "CNY")
    with pytest.raises(BudgetCurrencyError, match="CNY"):
        billing.reserve(CALL, "r", USD, "USD")
    assert billing.reserve(CALL, "r", USD, "CNY").holds[0].label == "tenant-month"


def test_a_reservation_without_budgets_or_wallet_holds_nothing(billing: Billing) -> None:
    r = billing.reserve(Scope("nobody"), "r", USD, "USD")
    assert r.holds == ()
    billing.settle(r, USD)
    assert billing.status(Scope("nobody")) == []
    assert Result.OK == "ok"


class _CountingStore:
    """A ledger store that counts the reads ``Billing.reserve`` makes."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._store, name)
        if name in ("accounts", "transfers", "balances"):
            def counted(*args: object, **kwargs: object) -> object:
                self.reads += 1
                return attribute(*args, **kwargs)
            return counted
        return attribute


def test_definitions_another_process_changes_are_seen_by_the_next_call(
        billing: Billing) -> None:
    counting = _CountingStore(billing._store)  # type: ignore[attr-defined]
    gateway = Billing(counting, now=lambda: AT)  # type: ignore[arg-type]
    admin = billing  # another process: the CLI, or another gateway worker
    admin.set_budget(ACME, "month", 10 * USD, "USD")
    admin.open_wallet("acme", "USD", 100 * USD)
    gateway.settle(gateway.reserve(CALL, "r1", USD, "USD"), USD)
    counting.reads = 0
    gateway.settle(gateway.reserve(CALL, "r2", USD, "USD"), USD)
    assert counting.reads == 1  # the next revisions of every budget the call could have
    admin.set_budget(ACME, "month", 4 * USD, "USD")  # a new revision: 2 spent, 2 left
    with pytest.raises(BudgetLevelExceededError, match="2 USD left"):
        gateway.reserve(CALL, "r3", 3 * USD, "USD")
    admin.set_budget(BOT, "day", USD // 2, "USD")  # a new level: the agent's first budget
    with pytest.raises(BudgetLevelExceededError, match="agent:acme:bot"):
        gateway.reserve(CALL, "r4", USD, "USD")
    r5 = gateway.reserve(CALL, "r5", USD // 4, "USD")
    assert [h.label for h in r5.holds] == ["tenant-month", "agent-day", "wallet"]
    assert [b.revision for b in gateway.budgets(CALL)] == [2, 1]


def test_definitions_cache_stays_within_its_capacity(billing: Billing) -> None:
    from ciyuan.billing.lookup import BudgetDefinitions

    billing.set_budget(ACME, "month", 10 * USD, "USD")
    definitions = BudgetDefinitions(billing._store, capacity=8)  # type: ignore[attr-defined]
    for n in range(20):
        budgets = definitions.budgets(Scope("acme", agent=f"a{n}", key=f"k{n}"))
        assert [b.level for b in budgets] == [ACME]
        assert len(definitions._known) <= 8
