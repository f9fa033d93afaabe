"""Token packs: the covering order, FIFO by expiry, expiry by transfer, and the service.

Service tests run on SQLite and, with ``CIYUAN_TEST_PG`` set, on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ciyuan.billing import Billing, OpenPack, plan_consumption, plan_expiry
from ciyuan.billing.errors import PackInvalidError, WalletInsufficientError
from ciyuan.billing.packs import take_tokens
from ciyuan.core.usage import Usage
from ciyuan.price import rate
from ciyuan.store import LedgerStore, SqliteLedgerStore

PG_URL = os.environ.get("CIYUAN_TEST_PG", "")
AT = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
USD = 10**9


def pack(number: int, remaining: int, expires_in_days: int, model: str = "gpt-4o") -> OpenPack:
    return OpenPack("acme", number, model, 10_000, AT + expires_in_days * DAY, remaining)


# -- pure -----------------------------------------------------------------------------------

@st.composite
def usages(draw: st.DrawFn) -> Usage:
    n = st.integers(0, 5_000)
    cached, writes, audio, image = draw(n), draw(n), draw(n), draw(n)
    writes_1h = draw(st.integers(0, writes))
    reasoning, out_audio = draw(n), draw(n)
    return Usage(input_tokens=cached + writes + audio + image + draw(n),
                 cached_input_tokens=cached, cache_write_tokens=writes,
                 cache_write_1h_tokens=writes_1h, input_audio_tokens=audio,
                 input_image_tokens=image, reasoning_tokens=reasoning,
                 output_audio_tokens=out_audio, output_tokens=reasoning + out_audio + draw(n))


@settings(max_examples=300, deadline=None)
@given(usages(), st.integers(0, 60_000))
def test_take_tokens_keeps_usage_consistent(usage: Usage, limit: int) -> None:
    remaining, taken = take_tokens(usage, limit)  # Usage() re-checks every subset rule
    assert taken == min(limit, usage.total_tokens)
    assert remaining.total_tokens == usage.total_tokens - taken
    assert remaining.requests == usage.requests
    if remaining.output_tokens < usage.output_tokens:  # output only after all input
        assert remaining.input_tokens == 0
    if remaining.cached_input_tokens < usage.cached_input_tokens:
        assert remaining.uncached_input_tokens == 0


def test_uncached_text_input_is_covered_first() -> None:
    usage = Usage(input_tokens=1_000, cached_input_tokens=300, output_tokens=500,
                  reasoning_tokens=200)
    remaining, _ = take_tokens(usage, 800)
    assert (remaining.input_tokens, remaining.cached_input_tokens) == (200, 200)
    remaining, _ = take_tokens(usage, 1_400)
    assert (remaining.input_tokens, remaining.output_tokens, remaining.reasoning_tokens) == (
        0, 100, 100)


def test_consumption_is_fifo_by_expiry_and_skips_unusable_packs() -> None:
    packs = [pack(1, 500, 30), pack(2, 400, 3), pack(3, 9_000, 0), pack(4, 100, 3, "other"),
             pack(5, 300, 10)]
    plan = plan_consumption(Usage(input_tokens=800, output_tokens=200), "GPT-4o", packs, AT,
                            "c1")
    assert [(t.debit_account_id, t.amount) for t in plan.transfers] == [
        ("pack:acme:2", 400), ("pack:acme:5", 300), ("pack:acme:1", 300)]
    assert plan.covered_tokens == 1_000 and plan.remaining.total_tokens == 0
    assert {t.credit_account_id for t in plan.transfers} == {"pack-used:gpt-4o"}
    short = plan_consumption(Usage(input_tokens=5_000), "gpt-4o", packs, AT, "c2")
    assert short.covered_tokens == 1_200 and short.remaining.input_tokens == 3_800
    none = plan_consumption(Usage(input_tokens=10), "gpt-4o", [], AT, "c3")
    assert none.transfers == () and none.remaining == Usage(input_tokens=10)


def test_expiry_moves_the_remainder_by_a_transfer() -> None:
    packs = [pack(1, 500, 1), pack(2, 0, 0), pack(3, 70, 0)]
    transfers = plan_expiry(packs, AT)
    assert [(t.id, t.credit_account_id, t.amount) for t in transfers] == [
        ("pack:acme:3:expiry", "pack-expired:gpt-4o", 70)]


# -- the service ----------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def billing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Billing]:
    schema = ""
    store: LedgerStore
    if request.param == "sqlite":
        store = SqliteLedgerStore(tmp_path / "ledger.db")
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL billing tests need CIYUAN_TEST_PG="
                        "postgresql://postgres@127.0.0.1:5432/test")
        from ciyuan.store.postgres_ledger import PostgresLedgerStore

        schema = f"test_packs_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        store = PostgresLedgerStore(PG_URL, schema=schema)
    yield Billing(store, now=lambda: AT)
    store.close()
    if schema:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def test_packs_are_bought_numbered_and_paid_from_the_wallet(billing: Billing) -> None:
    billing.open_wallet("acme", "USD")
    billing.top_up("acme", "USD", 3 * USD, "p")
    first = billing.buy_pack("acme", "GPT-4o", 1_000, AT + 30 * DAY, price_nano=2 * USD)
    second = billing.buy_pack("acme", "gpt-4o", 500, AT + 3 * DAY)
    assert (first.number, first.model, second.number) == (1, "gpt-4o", 2)
    with pytest.raises(WalletInsufficientError):
        billing.buy_pack("acme", "gpt-4o", 5_000, AT + DAY, price_nano=2 * USD)
    assert [p.number for p in billing.packs("acme")] == [1, 2]  # nothing half-bought
    wallet = billing.wallet("acme", "USD")
    assert wallet is not None and wallet.balance_nano == USD
    with pytest.raises(PackInvalidError):
        billing.buy_pack("acme", "gpt-4o", 0, AT + DAY)
    with pytest.raises(PackInvalidError, match="timezone-aware"):
        billing.buy_pack("acme", "gpt-4o", 10, dt.datetime(2027, 1, 1))


def test_consumption_is_once_per_call_and_the_rest_is_rated(billing: Billing) -> None:
    billing.buy_pack("acme", "gpt-4o", 1_000, AT + 30 * DAY)
    billing.buy_pack("acme", "gpt-4o", 500, AT + 3 * DAY)
    usage = Usage(input_tokens=1_200, cached_input_tokens=200, output_tokens=600)
    charge = billing.charge_usage("acme", usage, "gpt-4o", "call-1")
    assert charge.packs.covered_tokens == 1_500
    assert charge.packs.remaining == Usage(output_tokens=300)
    expected = rate(Usage(output_tokens=300), model="gpt-4o", at=AT).total
    assert charge.rating.total == expected and charge.charge_nano == int(expected * USD)
    again = billing.charge_usage("acme", usage, "gpt-4o", "call-1")
    assert again.packs.covered_tokens == 1_500 and again.charge_nano == charge.charge_nano
    assert [p.remaining for p in billing.packs("acme")] == [0, 0]
    assert billing._store.verify().ok  # type: ignore[attr-defined]


def test_expired_packs_are_closed_by_transfer(billing: Billing) -> None:
    billing.buy_pack("acme", "gpt-4o", 1_000, AT + DAY)
    billing.buy_pack("acme", "gpt-4o", 1_000, AT + 5 * DAY)
    billing.consume_packs("acme", Usage(input_tokens=300), "gpt-4o", "c1")
    later = AT + 2 * DAY
    used = billing.consume_packs("acme", Usage(input_tokens=100), "gpt-4o", "c2", at=later)
    assert [t.debit_account_id for t in used.transfers] == ["pack:acme:2"]
    assert billing.expire_packs("acme", later) == 1
    assert billing.expire_packs("acme", later) == 0
    assert [p.remaining for p in billing.packs("acme")] == [0, 900]
    balances = billing._store.balances(["pack-expired:gpt-4o", "pack-used:gpt-4o"])  # type: ignore[attr-defined]
    assert balances["pack-expired:gpt-4o"].credits_posted == 700
    assert balances["pack-used:gpt-4o"].credits_posted == 400


def test_concurrent_calls_never_overdraw_a_pack(tmp_path: Path) -> None:
    stores = [SqliteLedgerStore(tmp_path / "l.db") for _ in range(4)]
    services = [Billing(s, now=lambda: AT) for s in stores]
    services[0].buy_pack("acme", "gpt-4o", 1_000, AT + DAY)
    barrier = threading.Barrier(4)
    remaining: list[int] = []

    def call(index: int) -> None:
        barrier.wait()
        for n in range(5):
            plan = services[index].consume_packs("acme", Usage(input_tokens=70), "gpt-4o",
                                                 f"t{index}-{n}")
            remaining.append(plan.remaining.input_tokens)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    covered = 20 * 70 - sum(remaining)
    assert covered == 1_000 and services[0].packs("acme")[0].remaining == 0
    for store in stores:
        store.close()


def test_pack_accounts_use_the_model_token_unit(billing: Billing) -> None:
    bought = billing.buy_pack("acme", "deepseek-chat", 10, AT + DAY)
    account = billing._store.accounts([bought.account_id])[bought.account_id]  # type: ignore[attr-defined]
    assert account.unit == "TOKEN:deepseek-chat" and account.debits_must_not_exceed_credits
    assert dataclasses.replace(bought, remaining=0).usable("deepseek-chat", AT) is False
