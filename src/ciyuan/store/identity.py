"""The identity store interface (tenants, teams, agents, API keys), the receipt-chain store
interface (one chain head per tenant, declared in ``ciyuan.receipt.chain`` and re-exported
here), and the factories that open either from a database URL.

Implementations: ``SqliteIdentityStore`` / ``SqliteReceiptChainStore`` (the same SQLite file as
the ledger) and ``PostgresIdentityStore`` / ``PostgresReceiptChainStore``, checked by one
contract suite (tests/store/test_identity_store_contract.py). Their tables are named
``identity_*`` and ``receipt_chain_heads``; their migrations are recorded in
``_identity_migrations``, apart from the ledger's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ciyuan.identity import (
    Agent,
    ApiKey,
    Team,
    Tenant,
    UnknownAgentError,
    UnknownApiKeyError,
    UnknownTeamError,
    UnknownTenantError,
)
from ciyuan.receipt.chain import ReceiptChainStore
from ciyuan.store.migrations import Migration
from ciyuan.store.open import sqlite_path

if TYPE_CHECKING:
    from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = [
    "IDENTITY_MIGRATIONS",
    "MAX_PAGE",
    "IdentityStore",
    "ReceiptChainStore",
    "open_identity_store",
    "open_receipt_chain_store",
]

#: Rows per list call: bounds one response; callers page with ``after``.
MAX_PAGE = 1000


class IdentityStore(Protocol):
    """Durable identity. Every read of a team, agent or key names its tenant (SPEC
    invariant 6); ``key_by_id`` is the one exception: it serves authentication, where the key
    itself names the tenant."""

    def create_tenant(self, tenant: Tenant) -> Tenant:
        """Store a new tenant; ``IdentityExistsError`` if its id or name is taken."""
        ...

    def tenant(self, tenant_id: str) -> Tenant:
        """The tenant with that id; ``UnknownTenantError`` if there is none."""
        ...

    def find_tenant(self, ref: str) -> Tenant:
        """The tenant whose id, or else whose name, is ``ref``; ``UnknownTenantError``."""
        ...

    def tenants(self, *, after: str = "", limit: int = MAX_PAGE) -> list[Tenant]:
        """Tenants with id > ``after``, in id order, at most ``limit`` (≤ MAX_PAGE)."""
        ...

    def add_team(self, team: Team) -> Team:
        """Store the team unless the tenant has one with that id; the stored team."""
        ...

    def teams(self, tenant_id: str) -> list[Team]: ...

    def add_agent(self, agent: Agent) -> Agent:
        """Store the agent unless the tenant has one with that id; the stored agent.
        ``UnknownTeamError`` if it names a team the tenant does not have."""
        ...

    def agents(self, tenant_id: str) -> list[Agent]: ...

    def create_key(self, key: ApiKey) -> ApiKey:
        """Store a new key; ``UnknownTenantError``/``UnknownTeamError``/``UnknownAgentError``
        if it names what the tenant does not have, ``IdentityExistsError`` on a duplicate id."""
        ...

    def key(self, tenant_id: str, key_id: str) -> ApiKey:
        """The tenant's key with that id; ``UnknownApiKeyError`` (also for another tenant's)."""
        ...

    def keys(self, tenant_id: str, *, after: str = "", limit: int = MAX_PAGE) -> list[ApiKey]:
        """The tenant's keys (revoked ones too) with id > ``after``, in id order."""
        ...

    def key_by_id(self, key_id: str) -> ApiKey | None:
        """The key with that id whatever its tenant, or None: for ``authenticate`` only."""
        ...

    def revoke_key(self, tenant_id: str, key_id: str, at: dt.datetime) -> ApiKey:
        """Mark the tenant's key revoked at ``at`` (a UTC datetime); revoking a revoked key
        keeps the first time. ``UnknownApiKeyError`` if the tenant has no such key."""
        ...

    def close(self) -> None: ...


# -- the schema and row codec shared by the SQL backends ----------------------------------
#: Portable SQL (TEXT, BIGINT, composite foreign keys) run as is by SQLite and PostgreSQL.
#: Times are BIGINT nanoseconds since the epoch, UTC, like the ledger's.
IDENTITY_MIGRATIONS = (
    Migration("0001-identity-tenants", ("""
        CREATE TABLE identity_tenants (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            sector TEXT NOT NULL,
            region TEXT NOT NULL,
            created_at_ns BIGINT NOT NULL
        )""",)),
    Migration("0002-identity-teams-agents", ("""
        CREATE TABLE identity_teams (
            tenant TEXT NOT NULL REFERENCES identity_tenants (id),
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            created_at_ns BIGINT NOT NULL,
            PRIMARY KEY (tenant, id)
        )""", """
        CREATE TABLE identity_agents (
            tenant TEXT NOT NULL REFERENCES identity_tenants (id),
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            team TEXT,
            created_at_ns BIGINT NOT NULL,
            PRIMARY KEY (tenant, id),
            FOREIGN KEY (tenant, team) REFERENCES identity_teams (tenant, id)
        )""")),
    Migration("0003-identity-api-keys", ("""
        CREATE TABLE identity_api_keys (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL REFERENCES identity_tenants (id),
            prefix TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL,
            name TEXT NOT NULL,
            team TEXT,
            agent TEXT,
            models TEXT NOT NULL,
            rate_limit_rpm BIGINT,
            rate_limit_tpm BIGINT,
            created_at_ns BIGINT NOT NULL,
            revoked_at_ns BIGINT,
            FOREIGN KEY (tenant, team) REFERENCES identity_teams (tenant, id),
            FOREIGN KEY (tenant, agent) REFERENCES identity_agents (tenant, id)
        )""", """
        CREATE INDEX identity_api_keys_tenant ON identity_api_keys (tenant, id)
    """)),
    Migration("0004-receipt-chain-heads", ("""
        CREATE TABLE receipt_chain_heads (
            tenant TEXT PRIMARY KEY,
            seq BIGINT NOT NULL CHECK (seq >= 0),
            sha256 TEXT NOT NULL,
            updated_at_ns BIGINT NOT NULL
        )""",)),
)
#: Where the identity migrations are recorded (apart from the ledger's ``_migrations``).
MIGRATIONS_TABLE = "_identity_migrations"

TENANT_COLUMNS = "id, name, sector, region, created_at_ns"
TEAM_COLUMNS = "tenant, id, name, created_at_ns"
AGENT_COLUMNS = "tenant, id, name, team, created_at_ns"
KEY_COLUMNS = ("id, tenant, prefix, secret_sha256, name, team, agent, models, rate_limit_rpm, "
               "rate_limit_tpm, created_at_ns, revoked_at_ns")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_ns(value: dt.datetime) -> int:
    return (value - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def from_ns(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=value // 1000)


def tenant_row(t: Tenant) -> tuple[Any, ...]:
    return (t.id, t.name, t.sector, t.region, to_ns(t.created_at))


def row_tenant(r: Sequence[Any]) -> Tenant:
    return Tenant(id=r[0], name=r[1], sector=r[2], region=r[3], created_at=from_ns(r[4]))


def team_row(t: Team) -> tuple[Any, ...]:
    return (t.tenant, t.id, t.name, to_ns(t.created_at))


def row_team(r: Sequence[Any]) -> Team:
    return Team(tenant=r[0], id=r[1], name=r[2], created_at=from_ns(r[3]))


def agent_row(a: Agent) -> tuple[Any, ...]:
    return (a.tenant, a.id, a.name, a.team, to_ns(a.created_at))


def row_agent(r: Sequence[Any]) -> Agent:
    return Agent(tenant=r[0], id=r[1], name=r[2], team=r[3], created_at=from_ns(r[4]))


def key_row(k: ApiKey) -> tuple[Any, ...]:
    return (k.id, k.tenant, k.prefix, k.secret_sha256, k.name, k.team, k.agent,
            json.dumps(list(k.models)), k.rate_limit_rpm, k.rate_limit_tpm,
            to_ns(k.created_at), None if k.revoked_at is None else to_ns(k.revoked_at))


def row_key(r: Sequence[Any]) -> ApiKey:
    return ApiKey(id=r[0], tenant=r[1], prefix=r[2], secret_sha256=r[3], name=r[4], team=r[5],
                  agent=r[6], models=tuple(json.loads(r[7])), rate_limit_rpm=r[8],
                  rate_limit_tpm=r[9], created_at=from_ns(r[10]),
                  revoked_at=None if r[11] is None else from_ns(r[11]))


def check_page(limit: int) -> int:
    """``limit`` clamped to 1..MAX_PAGE."""
    return max(1, min(int(limit), MAX_PAGE))


def unknown_tenant(ref: str) -> UnknownTenantError:
    return UnknownTenantError(
        f"no tenant {ref!r}: `ciyuan tenants list` shows the tenants, `ciyuan tenants create "
        "NAME` makes one", tenant=ref)


def unknown_key(tenant_id: str, key_id: str) -> UnknownApiKeyError:
    return UnknownApiKeyError(
        f"tenant {tenant_id!r} has no API key {key_id!r}; `ciyuan keys list --tenant "
        f"{tenant_id}` shows its keys", tenant=tenant_id, key_id=key_id)


def unknown_team(tenant_id: str, team: str) -> UnknownTeamError:
    return UnknownTeamError(f"tenant {tenant_id!r} has no team {team!r}; create it first",
                            tenant=tenant_id, team=team)


def unknown_agent(tenant_id: str, agent: str) -> UnknownAgentError:
    return UnknownAgentError(f"tenant {tenant_id!r} has no agent {agent!r}; create it first",
                             tenant=tenant_id, agent=agent)


# -- opening a store from a URL ------------------------------------------------------------


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_identity_store(url: str) -> IdentityStore:
    """Open the identity store of a database URL (``sqlite:///…`` or ``postgresql://…``)."""
    if _is_postgres(url):
        from ciyuan.store.postgres_identity import PostgresIdentityStore

        return PostgresIdentityStore(url)
    from ciyuan.store.sqlite_identity import SqliteIdentityStore

    return SqliteIdentityStore(sqlite_path(url))


def open_receipt_chain_store(url: str, *, durable_at_commit: bool = True,
                             writer: SqliteWriter | None = None) -> ReceiptChainStore:
    """Open the receipt-chain store of a database URL; ``durable_at_commit`` and ``writer``
    as for :func:`~ciyuan.store.open.open_ledger_store`."""
    if _is_postgres(url):
        from ciyuan.store.postgres_receipts import PostgresReceiptChainStore

        return PostgresReceiptChainStore(url)
    from ciyuan.store.sqlite_receipts import SqliteReceiptChainStore

    return SqliteReceiptChainStore(sqlite_path(url), durable_at_commit=durable_at_commit,
                                   writer=writer)
