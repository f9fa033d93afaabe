"""One contract for every IdentityStore and ReceiptChainStore: SQLite and PostgreSQL.

PostgreSQL runs when CIYUAN_TEST_PG names a server (e.g.
``CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test``); each test gets its own schema,
dropped at the end of the session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ciyuan.identity import (
    Agent,
    IdentityExistsError,
    Team,
    Tenant,
    UnknownAgentError,
    UnknownApiKeyError,
    UnknownTeamError,
    UnknownTenantError,
    issue_key,
)
from ciyuan.receipt.chain import ChainHead
from ciyuan.receipt.model import GENESIS_SHA256
from ciyuan.store.identity import IdentityStore, ReceiptChainStore

PG_URL = os.environ.get("CIYUAN_TEST_PG", "")
PG_HOWTO = ("PostgreSQL contract tests need a server: set CIYUAN_TEST_PG, e.g. "
            "CIYUAN_TEST_PG=postgresql://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=dt.UTC)
SESSION = f"ciyuan_idtest_{os.getpid()}_{secrets.token_hex(3)}"


@dataclass
class Backend:
    """Opens stores on one database; closes them all at the end of the test."""

    name: str
    open_identity: Callable[[], IdentityStore]
    open_chain: Callable[[], ReceiptChainStore]
    opened: list[Any] = field(default_factory=list)

    def identity(self) -> IdentityStore:
        self.opened.append(store := self.open_identity())
        return store

    def chain(self) -> ReceiptChainStore:
        self.opened.append(store := self.open_chain())
        return store


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in made:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path,
            pg_schemas: list[str]) -> Iterator[Backend]:
    if request.param == "sqlite":
        from ciyuan.store.sqlite_identity import SqliteIdentityStore
        from ciyuan.store.sqlite_receipts import SqliteReceiptChainStore

        db = tmp_path / "ciyuan.db"
        found = Backend("sqlite", lambda: SqliteIdentityStore(db),
                        lambda: SqliteReceiptChainStore(db))
    else:
        if not PG_URL:
            pytest.skip(PG_HOWTO)
        from ciyuan.store.postgres_identity import PostgresIdentityStore
        from ciyuan.store.postgres_receipts import PostgresReceiptChainStore

        schema = f"{SESSION}_{len(pg_schemas)}"
        pg_schemas.append(schema)
        found = Backend("postgres", lambda: PostgresIdentityStore(PG_URL, schema=schema),
                        lambda: PostgresReceiptChainStore(PG_URL, schema=schema))
    yield found
    for store in found.opened:
        store.close()


def _tenant(tid: str = "acme", name: str | None = None) -> Tenant:
    return Tenant(tid, name or tid.title(), NOW, "software", "CN")


# -- tenants --------------------------------------------------------------------------------


def test_tenants_round_trip_and_are_unique_by_id_and_name(stores: Backend) -> None:
    store = stores.identity()
    assert store.create_tenant(_tenant("acme", "Acme")) == _tenant("acme", "Acme")
    assert store.tenant("acme") == _tenant("acme", "Acme")
    with pytest.raises(IdentityExistsError):
        store.create_tenant(_tenant("acme", "Other"))
    with pytest.raises(IdentityExistsError):
        store.create_tenant(_tenant("other", "Acme"))
    with pytest.raises(UnknownTenantError):
        store.tenant("nobody")


def test_find_tenant_by_id_or_name_prefers_the_id(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme", "Acme"))
    store.create_tenant(_tenant("beta", "acme"))  # a tenant *named* like another's id
    assert store.find_tenant("acme").id == "acme"
    assert store.find_tenant("Acme").id == "acme"
    with pytest.raises(UnknownTenantError, match="tenants list"):
        store.find_tenant("ACME")


def test_tenants_page_in_byte_order(stores: Backend) -> None:
    store = stores.identity()
    ids = ["a-b", "a0", "ab", "b", "z-9", "0-x"]
    for tid in ids:
        store.create_tenant(_tenant(tid))
    first = store.tenants(limit=4)
    rest = store.tenants(after=first[-1].id, limit=4)
    assert [t.id for t in first + rest] == sorted(ids)
    assert store.tenants(after="zzz") == []


# -- teams and agents -----------------------------------------------------------------------


def test_teams_and_agents_are_added_once_per_tenant(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    store.create_tenant(_tenant("beta"))
    team = Team("acme", "research", "Research", NOW)
    assert store.add_team(team) == team
    assert store.add_team(dataclasses.replace(team, name="Renamed")) == team  # kept as it was
    agent = Agent("acme", "bot", "Bot", NOW, team="research")
    assert store.add_agent(agent) == agent
    assert store.teams("acme") == [team] and store.agents("acme") == [agent]
    assert store.teams("beta") == [] and store.agents("beta") == []
    with pytest.raises(UnknownTeamError):  # another tenant's team is not yours
        store.add_agent(Agent("beta", "bot", "Bot", NOW, team="research"))
    with pytest.raises(UnknownTenantError):
        store.add_team(Team("nobody", "x", "X", NOW))


# -- keys -----------------------------------------------------------------------------------


def test_keys_round_trip_every_field(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    store.add_team(Team("acme", "research", "Research", NOW))
    store.add_agent(Agent("acme", "bot", "Bot", NOW, team="research"))
    issued = issue_key("acme", now=NOW, name="ci key", team="research", agent="bot",
                       models=["gpt-4o", "deepseek-chat"], rate_limit_rpm=60,
                       rate_limit_tpm=10**12)
    assert store.create_key(issued.key) == issued.key
    assert store.key("acme", issued.key.id) == issued.key
    assert store.key_by_id(issued.key.id) == issued.key
    assert store.keys("acme") == [issued.key]
    assert store.key_by_id("nonexistent1") is None


def test_keys_must_name_what_the_tenant_has(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    with pytest.raises(UnknownTenantError):
        store.create_key(issue_key("nobody", now=NOW).key)
    with pytest.raises(UnknownAgentError):
        store.create_key(issue_key("acme", now=NOW, agent="ghost").key)
    with pytest.raises(UnknownTeamError):
        store.create_key(issue_key("acme", now=NOW, team="ghost").key)
    key = issue_key("acme", now=NOW).key
    store.create_key(key)
    with pytest.raises(IdentityExistsError):
        store.create_key(key)
    assert store.keys("acme") == [key]


def test_one_tenant_never_sees_or_revokes_another_tenants_keys(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    store.create_tenant(_tenant("beta"))
    acme_key = issue_key("acme", now=NOW).key
    store.create_key(acme_key)
    assert store.keys("beta") == []
    with pytest.raises(UnknownApiKeyError):
        store.key("beta", acme_key.id)
    with pytest.raises(UnknownApiKeyError):
        store.revoke_key("beta", acme_key.id, NOW)
    assert store.key("acme", acme_key.id).active


def test_revoking_keeps_the_first_time(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    key = issue_key("acme", now=NOW).key
    store.create_key(key)
    later = NOW + dt.timedelta(hours=1)
    assert store.revoke_key("acme", key.id, NOW).revoked_at == NOW
    assert store.revoke_key("acme", key.id, later).revoked_at == NOW
    assert store.key_by_id(key.id).revoked_at == NOW  # type: ignore[union-attr]


def test_keys_page(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    keys = [issue_key("acme", now=NOW).key for _ in range(5)]
    for key in keys:
        store.create_key(key)
    first = store.keys("acme", limit=3)
    rest = store.keys("acme", after=first[-1].id, limit=3)
    assert [k.id for k in first + rest] == sorted(k.id for k in keys)


def test_data_survives_reopening(stores: Backend) -> None:
    store = stores.identity()
    store.create_tenant(_tenant("acme"))
    key = issue_key("acme", now=NOW).key
    store.create_key(key)
    store.close()
    again = stores.identity()
    assert again.tenant("acme") == _tenant("acme") and again.key("acme", key.id) == key


# -- receipt chain heads --------------------------------------------------------------------


def test_chain_heads_start_at_genesis_and_advance_per_tenant(stores: Backend) -> None:
    chain = stores.chain()
    assert chain.head("acme") == ChainHead("acme", 0, GENESIS_SHA256)
    seen: list[ChainHead] = []

    def link(head: ChainHead) -> tuple[str, int]:
        seen.append(head)
        return f"{head.seq + 1:064x}", head.seq + 1

    assert chain.advance("acme", link) == 1
    assert chain.advance("acme", link) == 2
    assert chain.advance("beta", link) == 1
    assert chain.head("acme") == ChainHead("acme", 2, f"{2:064x}")
    assert seen[1] == ChainHead("acme", 1, f"{1:064x}")


def test_a_failed_link_leaves_the_head_unchanged(stores: Backend) -> None:
    chain = stores.chain()
    chain.advance("acme", lambda head: ("a" * 64, None))

    def boom(head: ChainHead) -> tuple[str, None]:
        raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        chain.advance("acme", boom)
    assert chain.head("acme") == ChainHead("acme", 1, "a" * 64)


def test_concurrent_workers_keep_one_chain(stores: Backend) -> None:
    workers = [stores.chain() for _ in range(4)]
    per_worker = 25
    links: list[tuple[int, str]] = []
    lock = threading.Lock()

    def link(head: ChainHead) -> tuple[str, None]:
        new = secrets.token_hex(32)
        with lock:
            links.append((head.seq, head.sha256))
        return new, None

    def run(worker: ReceiptChainStore) -> None:
        for _ in range(per_worker):
            worker.advance("acme", link)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = len(workers) * per_worker
    assert sorted(seq for seq, _ in links) == list(range(total))  # no head was used twice
    assert workers[0].head("acme").seq == total
