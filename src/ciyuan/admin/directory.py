"""The identity workflows shared by the CLI and the admin API, over an ``IdentityStore``.

A ``Directory`` adds to the store what a person means by "create a key for agent X": make
the agent (and its team) if the tenant does not have it yet, issue the key with a fresh
secret, store only its hash, and hand back the secret once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence

from ciyuan.identity import (
    Agent,
    ApiKey,
    IdentityInputError,
    IssuedKey,
    KeyCache,
    Principal,
    Team,
    Tenant,
    UnknownApiKeyError,
    authenticate,
    issue_key,
    slugify,
)
from ciyuan.identity.keys import check_key_id
from ciyuan.identity.model import check_name, check_region, check_sector, check_slug
from ciyuan.store.identity import MAX_PAGE, IdentityStore

__all__ = ["Directory"]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Directory:
    """Tenants, teams, agents and keys: create, list, revoke, authenticate."""

    def __init__(
        self,
        store: IdentityStore,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        key_cache_ttl_s: float = 5.0,
    ) -> None:
        self.store = store
        self._clock = clock
        self._random_bytes = random_bytes
        self._lookup = KeyCache(store.key_by_id, ttl_s=key_cache_ttl_s)

    # -- tenants --------------------------------------------------------------------------

    def create_tenant(self, name: str, *, tenant_id: str | None = None,
                      sector: str = "other", region: str = "") -> Tenant:
        """A new tenant; its id is ``tenant_id`` or made from the name (``slugify``)."""
        name = check_name(name)
        tenant = Tenant(id=check_slug(tenant_id, "tenant id") if tenant_id else slugify(name),
                        name=name, created_at=self._clock(), sector=check_sector(sector),
                        region=check_region(region))
        return self.store.create_tenant(tenant)

    def find_tenant(self, ref: str) -> Tenant:
        """The tenant whose id or name is ``ref`` (the CLI's ``--tenant``)."""
        return self.store.find_tenant(ref)

    def tenants(self) -> list[Tenant]:
        """Every tenant, in id order (all pages)."""
        found: list[Tenant] = []
        while page := self.store.tenants(after=found[-1].id if found else "", limit=MAX_PAGE):
            found += page
        return found

    # -- teams and agents -----------------------------------------------------------------

    def add_team(self, tenant_id: str, team_id: str, name: str | None = None) -> Team:
        """The tenant's team ``team_id``, made if it does not exist."""
        team = Team(tenant=tenant_id, id=check_slug(team_id, "team id"),
                    name=check_name(name) if name else team_id, created_at=self._clock())
        return self.store.add_team(team)

    def add_agent(self, tenant_id: str, agent_id: str, *, name: str | None = None,
                  team: str | None = None) -> Agent:
        """The tenant's agent ``agent_id``, made (with its team) if it does not exist."""
        if team is not None:
            self.add_team(tenant_id, team)
        agent = Agent(tenant=tenant_id, id=check_slug(agent_id, "agent id"),
                      name=check_name(name) if name else agent_id, created_at=self._clock(),
                      team=team)
        stored = self.store.add_agent(agent)
        if team is not None and stored.team != team:
            raise IdentityInputError(
                f"agent {agent_id!r} of tenant {tenant_id!r} is in team {stored.team!r}, not "
                f"{team!r}; leave out the team or use another agent", field="team")
        return stored

    # -- keys -----------------------------------------------------------------------------

    def issue_key(
        self,
        tenant_id: str,
        *,
        name: str = "",
        team: str | None = None,
        agent: str | None = None,
        models: Sequence[str] = (),
        rate_limit_rpm: int | None = None,
        rate_limit_tpm: int | None = None,
    ) -> IssuedKey:
        """A new key of the tenant; its ``secret`` is in the result and nowhere else."""
        self.store.tenant(tenant_id)  # UnknownTenantError before anything is made
        if agent is not None:
            team = self.add_agent(tenant_id, agent, team=team).team
        elif team is not None:
            self.add_team(tenant_id, team)
        issued = issue_key(tenant_id, now=self._clock(), name=name, team=team, agent=agent,
                           models=models, rate_limit_rpm=rate_limit_rpm,
                           rate_limit_tpm=rate_limit_tpm, random_bytes=self._random_bytes)
        self.store.create_key(issued.key)
        return issued

    def keys(self, tenant_id: str, *, after: str = "", limit: int = MAX_PAGE) -> list[ApiKey]:
        self.store.tenant(tenant_id)
        return self.store.keys(tenant_id, after=after, limit=limit)

    def revoke_key(self, key_id: str, *, tenant_id: str | None = None) -> ApiKey:
        """Revoke a key (scoped to ``tenant_id`` when given); revoking twice is harmless."""
        check_key_id(key_id)
        if tenant_id is None:
            found = self.store.key_by_id(key_id)
            if found is None:
                raise UnknownApiKeyError(
                    f"no API key {key_id!r}; `ciyuan keys list --tenant T` shows the keys",
                    key_id=key_id)
            tenant_id = found.tenant
        revoked = self.store.revoke_key(tenant_id, key_id, self._clock())
        self._lookup.forget(key_id)
        return revoked

    def authenticate(self, presented: str) -> Principal:
        """The principal of a presented key (cached lookups, constant-time secret check)."""
        return authenticate(presented, self._lookup)
