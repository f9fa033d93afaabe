"""The ``/api`` endpoints: health, the receipt public key, tenants, teams, agents, keys.

Handlers are plain functions (FastAPI runs them in its thread pool, so the blocking store
calls never stall the event loop). Every path that names a tenant reads only that tenant's
rows (SPEC invariant 6).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ciyuan import __version__
from ciyuan.admin.errors import AdminDisabledError, AdminUnauthorizedError
from ciyuan.admin.schemas import (
    KEY_ID_PATTERN,
    SLUG_PATTERN,
    AgentIn,
    AgentList,
    AgentOut,
    ErrorOut,
    HealthOut,
    IssuedKeyOut,
    KeyIn,
    KeyList,
    KeyOut,
    PublicKeyOut,
    TeamIn,
    TeamList,
    TeamOut,
    TenantIn,
    TenantList,
    TenantOut,
)
from ciyuan.admin.services import AdminServices
from ciyuan.core.errors import NotFoundError
from ciyuan.store.identity import MAX_PAGE

__all__ = ["build_router"]

TenantId = Annotated[str, Path(pattern=SLUG_PATTERN, description="The tenant's id.")]
KeyId = Annotated[str, Path(pattern=KEY_ID_PATTERN, description="The key's id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
_BEARER = HTTPBearer(auto_error=False, description="The admin token (CIYUAN_ADMIN_TOKEN).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (401, "No or wrong admin token."), (403, "Admin API disabled (no token configured)."),
        (404, "No such tenant, key or path."), (409, "Already exists."),
        (422, "Invalid request: the message names the field."))}


def _admin_guard(services: AdminServices) -> Any:
    def require_admin(credentials: Credentials) -> None:
        token = services.admin_token
        if not token:
            raise AdminDisabledError(
                "the admin API is disabled: set CIYUAN_ADMIN_TOKEN (or ciyuan.toml [admin] "
                "token) on the server and restart it")
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            raise AdminUnauthorizedError(
                "send the admin token as `Authorization: Bearer <CIYUAN_ADMIN_TOKEN>`")

    return Depends(require_admin)


def _open_routes(router: APIRouter, services: AdminServices) -> None:
    @router.get("/health", response_model=HealthOut, tags=["health"])
    def health() -> HealthOut:
        """Liveness of the admin API (no token needed)."""
        return HealthOut(version=__version__)

    @router.get("/receipts/public-key", response_model=PublicKeyOut, tags=["receipts"])
    def receipt_public_key() -> PublicKeyOut:
        """The Ed25519 public key that verifies `X-Ciyuan-Receipt` headers (no token needed)."""
        key = services.receipt_public_key
        if key is None:
            raise NotFoundError("this server signs no receipts, so it has no public key")
        return PublicKeyOut(key_id=key.key_id, public_key_pem=key.pem)


def _tenant_routes(router: APIRouter, services: AdminServices) -> None:
    directory = services.directory

    @router.post("/tenants", response_model=TenantOut, status_code=status.HTTP_201_CREATED)
    def create_tenant(body: TenantIn) -> TenantOut:
        """Create a tenant; its id is made from the name unless given."""
        return TenantOut.of(directory.create_tenant(body.name, tenant_id=body.id,
                                                    sector=body.sector, region=body.region))

    @router.get("/tenants", response_model=TenantList)
    def list_tenants(after: Annotated[str, Query(pattern=r"^[a-z0-9-]{0,63}$")] = "",
                     limit: Limit = 100) -> TenantList:
        """Tenants in id order, a page at a time (``after`` = the last id of the page before)."""
        page = directory.store.tenants(after=after, limit=limit)
        return TenantList(tenants=[TenantOut.of(t) for t in page],
                          next_after=page[-1].id if len(page) == limit else None)

    @router.get("/tenants/{tenant_id}", response_model=TenantOut)
    def get_tenant(tenant_id: TenantId) -> TenantOut:
        return TenantOut.of(directory.store.tenant(tenant_id))

    @router.post("/tenants/{tenant_id}/teams", response_model=TeamOut, status_code=201)
    def add_team(tenant_id: TenantId, body: TeamIn) -> TeamOut:
        """Make a team (or return the existing one with that id)."""
        return TeamOut.of(directory.add_team(tenant_id, body.id, body.name))

    @router.get("/tenants/{tenant_id}/teams", response_model=TeamList)
    def list_teams(tenant_id: TenantId) -> TeamList:
        directory.store.tenant(tenant_id)
        return TeamList(teams=[TeamOut.of(t) for t in directory.store.teams(tenant_id)])

    @router.post("/tenants/{tenant_id}/agents", response_model=AgentOut, status_code=201)
    def add_agent(tenant_id: TenantId, body: AgentIn) -> AgentOut:
        """Make an agent, and its team if new (or return the existing agent)."""
        return AgentOut.of_agent(directory.add_agent(tenant_id, body.id, name=body.name,
                                                     team=body.team))

    @router.get("/tenants/{tenant_id}/agents", response_model=AgentList)
    def list_agents(tenant_id: TenantId) -> AgentList:
        directory.store.tenant(tenant_id)
        return AgentList(agents=[AgentOut.of_agent(a) for a in directory.store.agents(tenant_id)])


def _key_routes(router: APIRouter, services: AdminServices) -> None:
    directory = services.directory

    @router.post("/tenants/{tenant_id}/keys", response_model=IssuedKeyOut, status_code=201)
    def create_key(tenant_id: TenantId, body: KeyIn, response: Response) -> IssuedKeyOut:
        """Issue a key. The response holds the secret, once; it is stored only as a hash."""
        issued = directory.issue_key(
            tenant_id, name=body.name, team=body.team, agent=body.agent, models=body.models,
            rate_limit_rpm=body.rate_limit_rpm, rate_limit_tpm=body.rate_limit_tpm)
        response.headers["Cache-Control"] = "no-store"
        return IssuedKeyOut(key=KeyOut.of(issued.key), secret=issued.secret)

    @router.get("/tenants/{tenant_id}/keys", response_model=KeyList)
    def list_keys(tenant_id: TenantId,
                  after: Annotated[str, Query(pattern=r"^[0-9A-Za-z]{0,12}$")] = "",
                  limit: Limit = 100) -> KeyList:
        """The tenant's keys (revoked ones too), never their secrets."""
        page = directory.keys(tenant_id, after=after, limit=limit)
        return KeyList(keys=[KeyOut.of(k) for k in page],
                       next_after=page[-1].id if len(page) == limit else None)

    @router.get("/tenants/{tenant_id}/keys/{key_id}", response_model=KeyOut)
    def get_key(tenant_id: TenantId, key_id: KeyId) -> KeyOut:
        return KeyOut.of(directory.store.key(tenant_id, key_id))

    @router.post("/tenants/{tenant_id}/keys/{key_id}/revoke", response_model=KeyOut)
    def revoke_key(tenant_id: TenantId, key_id: KeyId) -> KeyOut:
        """Revoke a key at once (other workers within their key-cache TTL, 5 s)."""
        return KeyOut.of(directory.revoke_key(key_id, tenant_id=tenant_id))


def build_router(services: AdminServices) -> APIRouter:
    """All ``/api`` routes; the admin ones behind the Bearer-token guard."""
    router = APIRouter(responses=_ERRORS)
    _open_routes(router, services)
    admin = APIRouter(dependencies=[_admin_guard(services)], responses=_ERRORS)
    _tenant_routes(admin, services)
    _key_routes(admin, services)
    router.include_router(admin, tags=["admin"])
    return router
