"""PostgreSQL identity store: the same ``identity_*`` tables and migrations as SQLite.

One psycopg 3 connection per store (autocommit; writes in explicit transactions), guarded by
a lock. Migrations run under a transaction-scoped advisory lock, so gateway workers starting
together apply them once. ``schema`` puts the tables in their own schema (tests use one per
session); by default they go where the URL's ``search_path`` says.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from ciyuan.core.errors import ConfigError
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
from ciyuan.store.migrations import Migration, apply_pg_migrations, refusal

__all__ = ["PostgresIdentityStore", "apply_identity_migrations", "pg_connect"]

#: Advisory-lock key of the identity migrations ("ciyuanID" as a 64-bit integer).
#: Byte order for ids, as SQLite's BINARY sorts them, so pages are the same on both stores.
_C = 'COLLATE "C"'


def _values(n: int) -> str:
    return ", ".join(["%s"] * n)


def pg_connect(url: str, schema: str | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection; with ``schema``, that schema is made and searched first."""
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        shown = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
        reason = " ".join(str(exc).split())  # libpq's message spans lines
        raise ConfigError(f"cannot connect to PostgreSQL at {shown}: {reason}; check "
                          "--db / CIYUAN_DB and that the server is running", field="db_url") \
            from None
    if schema is not None:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def apply_identity_migrations(
    conn: psycopg.Connection[Any], migrations: Sequence[Migration] = IDENTITY_MIGRATIONS
) -> list[str]:
    """Run the identity migrations not yet recorded, once across concurrent processes."""
    return apply_pg_migrations(conn, migrations, table=MIGRATIONS_TABLE,
                               lock="ciyuan-identity-migrations",
                               refuse=refusal(IdentitySchemaError, "identity"))


class PostgresIdentityStore:
    """The :class:`~ciyuan.store.identity.IdentityStore` on PostgreSQL."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = pg_connect(url, schema)
        apply_identity_migrations(self._conn)

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock, self._conn.transaction():
            yield self._conn

    def _one(self, query: str, *params: object) -> tuple[Any, ...] | None:
        with self._lock:
            return self._conn.execute(query, params).fetchone()

    def _all(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(query, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- tenants --------------------------------------------------------------------------

    def create_tenant(self, tenant: Tenant) -> Tenant:
        try:
            with self._write() as conn:
                conn.execute(f"INSERT INTO identity_tenants ({TENANT_COLUMNS}) VALUES "
                             f"({_values(5)})", tenant_row(tenant))
        except psycopg.errors.UniqueViolation:
            raise IdentityExistsError(
                f"a tenant with id {tenant.id!r} or name {tenant.name!r} exists already; pick "
                "another name, or pass --id", tenant=tenant.id) from None
        return tenant

    def tenant(self, tenant_id: str) -> Tenant:
        row = self._one(f"SELECT {TENANT_COLUMNS} FROM identity_tenants WHERE id = %s", tenant_id)
        if row is None:
            raise unknown_tenant(tenant_id)
        return row_tenant(row)

    def find_tenant(self, ref: str) -> Tenant:
        row = self._one(f"SELECT {TENANT_COLUMNS} FROM identity_tenants WHERE id = %s OR "
                        "name = %s ORDER BY id = %s DESC LIMIT 1", ref, ref, ref)
        if row is None:
            raise unknown_tenant(ref)
        return row_tenant(row)

    def tenants(self, *, after: str = "", limit: int = MAX_PAGE) -> list[Tenant]:
        rows = self._all(f"SELECT {TENANT_COLUMNS} FROM identity_tenants WHERE id {_C} > %s "
                         f"ORDER BY id {_C} LIMIT %s", after, check_page(limit))
        return [row_tenant(r) for r in rows]

    # -- teams and agents -----------------------------------------------------------------

    def add_team(self, team: Team) -> Team:
        with self._write() as conn:
            _require_tenant(conn, team.tenant)
            conn.execute(f"INSERT INTO identity_teams ({TEAM_COLUMNS}) VALUES ({_values(4)}) "
                         "ON CONFLICT DO NOTHING", team_row(team))
            row = conn.execute(f"SELECT {TEAM_COLUMNS} FROM identity_teams WHERE tenant = %s "
                               "AND id = %s", (team.tenant, team.id)).fetchone()
        assert row is not None
        return row_team(row)

    def teams(self, tenant_id: str) -> list[Team]:
        rows = self._all(f"SELECT {TEAM_COLUMNS} FROM identity_teams WHERE tenant = %s "
                         f"ORDER BY id {_C} LIMIT %s", tenant_id, MAX_PAGE)
        return [row_team(r) for r in rows]

    def add_agent(self, agent: Agent) -> Agent:
        with self._write() as conn:
            _require_tenant(conn, agent.tenant)
            _require_member(conn, agent.tenant, agent.team, None)
            conn.execute(f"INSERT INTO identity_agents ({AGENT_COLUMNS}) VALUES ({_values(5)}) "
                         "ON CONFLICT DO NOTHING", agent_row(agent))
            row = conn.execute(f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE tenant = %s "
                               "AND id = %s", (agent.tenant, agent.id)).fetchone()
        assert row is not None
        return row_agent(row)

    def agents(self, tenant_id: str) -> list[Agent]:
        rows = self._all(f"SELECT {AGENT_COLUMNS} FROM identity_agents WHERE tenant = %s "
                         f"ORDER BY id {_C} LIMIT %s", tenant_id, MAX_PAGE)
        return [row_agent(r) for r in rows]

    # -- keys -----------------------------------------------------------------------------

    def create_key(self, key: ApiKey) -> ApiKey:
        try:
            with self._write() as conn:
                _require_tenant(conn, key.tenant)
                _require_member(conn, key.tenant, key.team, key.agent)
                conn.execute(f"INSERT INTO identity_api_keys ({KEY_COLUMNS}) VALUES "
                             f"({_values(12)})", key_row(key))
        except psycopg.errors.UniqueViolation:
            raise IdentityExistsError(f"API key id {key.id} exists already; issue a new key",
                                      key_id=key.id) from None
        return key

    def key(self, tenant_id: str, key_id: str) -> ApiKey:
        row = self._one(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE tenant = %s AND "
                        "id = %s", tenant_id, key_id)
        if row is None:
            raise unknown_key(tenant_id, key_id)
        return row_key(row)

    def keys(self, tenant_id: str, *, after: str = "", limit: int = MAX_PAGE) -> list[ApiKey]:
        rows = self._all(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE tenant = %s AND "
                         f"id {_C} > %s ORDER BY id {_C} LIMIT %s", tenant_id, after,
                         check_page(limit))
        return [row_key(r) for r in rows]

    def key_by_id(self, key_id: str) -> ApiKey | None:
        row = self._one(f"SELECT {KEY_COLUMNS} FROM identity_api_keys WHERE id = %s", key_id)
        return None if row is None else row_key(row)

    def revoke_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> ApiKey:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE identity_api_keys SET revoked_at_ns = COALESCE(revoked_at_ns, %s) "
                f"WHERE tenant = %s AND id = %s RETURNING {KEY_COLUMNS}",
                (to_ns(at), tenant_id, key_id)).fetchone()
        if row is None:
            raise unknown_key(tenant_id, key_id)
        return row_key(row)


def _require_tenant(conn: psycopg.Connection[Any], tenant_id: str) -> None:
    if conn.execute("SELECT 1 FROM identity_tenants WHERE id = %s", (tenant_id,)).fetchone() \
            is None:
        raise unknown_tenant(tenant_id)


def _require_member(conn: psycopg.Connection[Any], tenant_id: str, team: str | None,
                    agent: str | None) -> None:
    if team is not None and conn.execute(
            "SELECT 1 FROM identity_teams WHERE tenant = %s AND id = %s",
            (tenant_id, team)).fetchone() is None:
        raise unknown_team(tenant_id, team)
    if agent is not None and conn.execute(
            "SELECT 1 FROM identity_agents WHERE tenant = %s AND id = %s",
            (tenant_id, agent)).fetchone() is None:
        raise unknown_agent(tenant_id, agent)
