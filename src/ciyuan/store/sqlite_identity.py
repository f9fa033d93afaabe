"""SQLite identity store: the ``identity_*`` tables in the ledger's database file.

One connection per store, guarded by a lock (the one-writer rule); writes run in
``BEGIN IMMEDIATE`` so a check (does the tenant exist?) and the write that depends on it see
the same database, across processes too. Migrations are recorded in ``_identity_migrations``,
apart from the ledger's ``_migrations``, so either family can grow on its own.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from ciyuan.identity import (
    Agent,
    ApiKey,
    IdentityExistsError,
    IdentitySchemaError,
    Team,
    Tenant,
)
from ciyuan.store.identity import (
    AGENT_COLUMNS,
    IDENTITY_MIGRATIONS,
    KEY_COLUMNS,
    MAX_PAGE,
    MIGRATIONS_TABLE,
    TEAM_COLUMNS,
    TENANT_COLUMNS,
    agent_row,
    check_page,
    key_row,
    row_agent,
    row_key,
    row_team,
    row_tenant,
    team_row,
    tenant_row,
    to_ns,
    unknown_agent,
    unknown_key,
    unknown_team,
    unknown_tenant,
)
from ciyuan.store.migrations import Migration, apply_migrations, refusal
from ciyuan.store.sqlite_connect import immediate, writer_connection

__all__ = ["SqliteIdentityStore", "apply_identity_migrations", "connect"]


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection set up like the ledger's: WAL, FULL sync (a created or revoked key
    survives power loss), foreign keys, 10 s busy wait."""
    return writer_connection(path, foreign_keys=True)


def apply_identity_migrations(
    conn: sqlite3.Connection, migrations: Sequence[Migration] = IDENTITY_MIGRATIONS
) -> list[str]:
    """Run the identity migrations not yet recorded (caller holds ``BEGIN IMMEDIATE``)."""
    return apply_migrations(conn, migrations, table=MIGRATIONS_TABLE,
                            refuse=refusal(IdentitySchemaError, "identity"))


class SqliteIdentityStore:
    """The :class:`~ciyuan.store.identity.IdentityStore` on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._conn = connect(path)
        with self._write() as conn:
            apply_identity_migrations(conn)

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        # one BEGIN IMMEDIATE transaction, after this thread's open turns of the gateway's
        # writer (which hold the file's write lock) are committed
        return immediate(self._lock, self._conn)

    def _one(self, sql: str, *params: object) -> tuple[object, ...] | None:
        with self._lock:
            row: tuple[object, ...] | None = self._conn.execute(sql, params).fetchone()
            return row

    def _all(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- tenants --------------------------------------------------------------------------

    def create_tenant(self, tenant: Tenant) -> Tenant:
        with self._write() as conn:
            clash = conn.execute("SELECT id, name FROM identity_tenants WHERE id = ? OR name = ?",
                                 (tenant.id, tenant.name)).fetchone()
            if clash is not None:
                what = f"id {tenant.id!r}" if clash[0] == tenant.id else f"name {tenant.name!r}"
                raise IdentityExistsError(
                    f"a tenant with {what} exists already; pick another name, or pass --id",
                    tenant=tenant.id)
            conn.execute(f"INSERT INTO identity_tenants ({TENANT_COLUMNS}) VALUES (?,?,?,?,?)",
                         tenant_row(tenant))
        return tenant

    def tenant(self, tenant_id: str) -> Tenant:
        row = self._one(f"SELECT {TENANT_COLUMNS} FROM identity_tenants WHERE id = ?", tenant_id)
        if row is None:
            raise unknown_tenant(tenant_id)
        return row_tenant(row)

    def find_tenant(self, ref: str) -> Tenant:
        row = self._one(f"SELECT {TENANT_COLUMNS} FROM identity_tenants WHERE id = ? OR "
                        "name = ? ORDER BY id = ? DESC LIMIT 1", ref, ref, ref)
        if row is None:
            raise unknown_tenant(ref)
        return row_tenant(row)

    def tenants(self, *, after: str = "", limit: int = MAX_PAGE) -> list[Tenant]:
        rows = self._all(f"SELECT {TENANT_COLUMNS} FROM identity_tenants WHERE id > ? "
                         "ORDER BY id LIMIT ?", after, check_page(limit))
        return [row_tenant(r) for r in rows]

    # -- teams and agents -----------------------------------------------------------------

    def add_team(self, team: Team) -> Team:
        with self._write() as conn:
            _require_tenant(conn, team.tenant)
            conn.execute(f"INSERT INTO identity_teams ({TEAM_COLUMNS}) VALUES (?,?,?,?) "
                         "ON CONFLICT DO NOTHING", team_row(team))
            row = conn.execute(f"SELECT {TEAM_COLUMNS} FROM identity_teams WHERE tenant = ? "
                               "AND id = ?", (team.tenant, team.id)).fetchone()
        return row_team(row)

    def teams(self, tenant_id: str) -> list[Team]:
        rows = self._all(f"SELECT {TEAM_COLUMNS} FROM identity_teams WHERE tenant = ? "
                         "ORDER BY id LIMIT ?", tenant_id, MAX_PAGE)
        return [row_team(r) for r in rows]

    def add_agent(self, agent: Agent) -> Agent:
        with self._write() as conn:
            _require_tenant(conn, agent.tenant)
            _require_member(conn, agent.tenant, agent.team, None)
            conn.execute(f"INSERT INTO identity_agents ({AGENT_COLUMNS}) VALUES (?,?,?,?,?) "
                         "ON CONFLICT DO NOTHING", agent_row(agent))
            row = conn.execute(f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE tenant = ? "
                               "AND id = ?", (agent.tenant, agent.id)).fetchone()
        return row_agent(row)

    def agents(self, tenant_id: str) -> list[Agent]:
        rows = self._all(f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE tenant = ? "
                         "ORDER BY id LIMIT ?", tenant_id, MAX_PAGE)
        return [row_agent(r) for r in rows]

    # -- keys -----------------------------------------------------------------------------

    def create_key(self, key: ApiKey) -> ApiKey:
        with self._write() as conn:
            _require_tenant(conn, key.tenant)
            _require_member(conn, key.tenant, key.team, key.agent)
            if conn.execute("SELECT 1 FROM identity_api_keys WHERE id = ?", (key.id,)).fetchone():
                raise IdentityExistsError(f"API key id {key.id} exists already; issue a new key",
                                          key_id=key.id)
            conn.execute(f"INSERT INTO identity_api_keys ({KEY_COLUMNS}) VALUES "
                         "(?,?,?,?,?,?,?,?,?,?,?,?)", key_row(key))
        return key

    def key(self, tenant_id: str, key_id: str) -> ApiKey:
        row = self._one(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE tenant = ? AND "
                        "id = ?", tenant_id, key_id)
        if row is None:
            raise unknown_key(tenant_id, key_id)
        return row_key(row)

    def keys(self, tenant_id: str, *, after: str = "", limit: int = MAX_PAGE) -> list[ApiKey]:
        rows = self._all(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE tenant = ? AND "
                         "id > ? ORDER BY id LIMIT ?", tenant_id, after, check_page(limit))
        return [row_key(r) for r in rows]

    def key_by_id(self, key_id: str) -> ApiKey | None:
        row = self._one(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE id = ?", key_id)
        return None if row is None else row_key(row)

    def revoke_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> ApiKey:
        with self._write() as conn:
            found = conn.execute(
                "UPDATE identity_api_keys SET revoked_at_ns = COALESCE(revoked_at_ns, ?) "
                "WHERE tenant = ? AND id = ?", (to_ns(at), tenant_id, key_id)).rowcount
            if not found:
                raise unknown_key(tenant_id, key_id)
            row = conn.execute(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE id = ?",
                               (key_id,)).fetchone()
        return row_key(row)


def _require_tenant(conn: sqlite3.Connection, tenant_id: str) -> None:
    if conn.execute("SELECT 1 FROM identity_tenants WHERE id = ?", (tenant_id,)).fetchone() \
            is None:
        raise unknown_tenant(tenant_id)


def _require_member(conn: sqlite3.Connection, tenant_id: str, team: str | None,
                    agent: str | None) -> None:
    if team is not None and conn.execute(
            "SELECT 1 FROM identity_teams WHERE tenant = ? AND id = ?",
            (tenant_id, team)).fetchone() is None:
        raise unknown_team(tenant_id, team)
    if agent is not None and conn.execute(
            "SELECT 1 FROM identity_agents WHERE tenant = ? AND id = ?",
            (tenant_id, agent)).fetchone() is None:
        raise unknown_agent(tenant_id, agent)
