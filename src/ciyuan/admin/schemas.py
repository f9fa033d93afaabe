"""Request and response bodies of ``/api`` (pydantic), from which the OpenAPI document is
generated. Requests refuse unknown fields; every bound is stated in the schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ciyuan.identity import Agent, ApiKey, Sector, Team, Tenant
from ciyuan.identity.model import (
    MAX_MODELS_PER_KEY,
    MAX_NAME_CHARS,
    MAX_RATE_LIMIT,
    MODEL_PATTERN,
    NAME_PATTERN,
    REGION_PATTERN,
    SLUG_PATTERN,
)

__all__ = [
    "SLUG_PATTERN", "KEY_ID_PATTERN", "AgentIn", "AgentList", "AgentOut", "ErrorBody",
    "ErrorOut", "HealthOut", "IssuedKeyOut", "KeyIn", "KeyList", "KeyOut", "PublicKeyOut",
    "TeamIn", "TeamList", "TeamOut", "TenantIn", "TenantList", "TenantOut",
]

KEY_ID_PATTERN = r"^[0-9A-Za-z]{12}$"
_Name = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)
ModelName = Annotated[str, Field(pattern=MODEL_PATTERN)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code (docs/errors.md).")
    message: str = Field(description="What went wrong and what to do.")


class ErrorOut(BaseModel):
    """The one error shape of /api."""

    error: ErrorBody


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class PublicKeyOut(BaseModel):
    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: str = Field(description="First 16 hex digits of SHA-256 of the raw public key.")
    public_key_pem: str
    header: str = "X-Ciyuan-Receipt"


class TenantIn(_In):
    name: str = _Name
    id: str | None = Field(None, pattern=SLUG_PATTERN, description="Default: from the name.")
    sector: Sector = "other"
    region: str = Field("", pattern=REGION_PATTERN)


class TenantOut(BaseModel):
    id: str
    name: str
    sector: Sector
    region: str
    created_at: dt.datetime

    @classmethod
    def of(cls, t: Tenant) -> TenantOut:
        return cls(id=t.id, name=t.name, sector=t.sector, region=t.region,
                   created_at=t.created_at)


class TenantList(BaseModel):
    tenants: list[TenantOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null at "
                                                "the end.")


class TeamIn(_In):
    id: str = Field(pattern=SLUG_PATTERN)
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS,
                             pattern=NAME_PATTERN)


class TeamOut(BaseModel):
    tenant: str
    id: str
    name: str
    created_at: dt.datetime

    @classmethod
    def of(cls, t: Team) -> TeamOut:
        return cls(tenant=t.tenant, id=t.id, name=t.name, created_at=t.created_at)


class TeamList(BaseModel):
    teams: list[TeamOut]


class AgentIn(TeamIn):
    team: str | None = Field(None, pattern=SLUG_PATTERN)


class AgentOut(TeamOut):
    team: str | None

    @classmethod
    def of_agent(cls, a: Agent) -> AgentOut:
        return cls(tenant=a.tenant, id=a.id, name=a.name, team=a.team, created_at=a.created_at)


class AgentList(BaseModel):
    agents: list[AgentOut]


class KeyIn(_In):
    name: str = Field("", max_length=MAX_NAME_CHARS, pattern=f"({NAME_PATTERN})|(^$)")
    team: str | None = Field(None, pattern=SLUG_PATTERN)
    agent: str | None = Field(None, pattern=SLUG_PATTERN, description="Made if new.")
    models: list[ModelName] = Field(default_factory=list, max_length=MAX_MODELS_PER_KEY,
                              description="Models the key may call; empty = all.")
    rate_limit_rpm: int | None = Field(None, ge=1, le=MAX_RATE_LIMIT)
    rate_limit_tpm: int | None = Field(None, ge=1, le=MAX_RATE_LIMIT)


class KeyOut(BaseModel):
    """A key without its secret (only its SHA-256 is stored, and that is not shown)."""

    id: str
    tenant: str
    prefix: str
    name: str
    team: str | None
    agent: str | None
    models: list[str]
    rate_limit_rpm: int | None
    rate_limit_tpm: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool

    @classmethod
    def of(cls, k: ApiKey) -> KeyOut:
        return cls(id=k.id, tenant=k.tenant, prefix=k.prefix, name=k.name, team=k.team,
                   agent=k.agent, models=list(k.models), rate_limit_rpm=k.rate_limit_rpm,
                   rate_limit_tpm=k.rate_limit_tpm, created_at=k.created_at,
                   revoked_at=k.revoked_at, active=k.active)


class IssuedKeyOut(BaseModel):
    key: KeyOut
    secret: str = Field(description="The API key itself. Shown once: store it now.")


class KeyList(BaseModel):
    keys: list[KeyOut]
    next_after: str | None
