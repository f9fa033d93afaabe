"""Identity values: tenants, teams, agents, API keys and the authenticated principal.

All values are immutable. Ids are slugs (``[a-z0-9][a-z0-9-]{0,62}``, DNS-label style) so
they are safe in URLs, ledger account ids and file names; names are free text. Every team,
agent and key belongs to exactly one tenant, and every lookup names that tenant
(SPEC invariant 6); the one exception is authentication, where the key itself names it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, get_args

from ciyuan.identity.errors import IdentityInputError, ModelNotAllowedError

__all__ = [
    "MAX_MODELS_PER_KEY",
    "MAX_NAME_CHARS",
    "MAX_RATE_LIMIT",
    "MODEL_PATTERN",
    "NAME_PATTERN",
    "REGION_PATTERN",
    "SECTORS",
    "SLUG_PATTERN",
    "Agent",
    "ApiKey",
    "Principal",
    "Sector",
    "Team",
    "Tenant",
    "check_models",
    "check_name",
    "check_rate_limit",
    "check_region",
    "check_sector",
    "check_slug",
    "slugify",
]

#: The sectors the statistical release groups tenants by (SPEC §4.6); ``other`` is the rest.
Sector = Literal["software", "finance", "manufacturing", "education", "government",
                 "healthcare", "retail", "telecom", "energy", "media", "research", "other"]
SECTORS: tuple[Sector, ...] = get_args(Sector)

#: Bound on names: long enough for any organisation's legal name, short enough for a header.
MAX_NAME_CHARS = 200
#: Bound on a key's model allow-list; beyond that, use no list (all models).
MAX_MODELS_PER_KEY = 100
#: Bound on rpm/tpm limits: fits a signed 64-bit column with room to add.
MAX_RATE_LIMIT = 10**12

#: Characters no name may hold: C0 and C1 controls. Lone surrogates (a JSON "\ud800" is no
#: UTF-8) are refused too, by ``_SURROGATE``: the API schema's regex dialect cannot say it.
_BAD_CHARS = r"\x00-\x1f\x7f-\x9f"
_SURROGATE = re.compile("[\ud800-\udfff]")
#: A display name, as a pattern the admin API's schema states too: something besides spaces,
#: no control characters (surrounding space is stripped; the length bound is separate).
NAME_PATTERN = rf"^\s*[^\s{_BAD_CHARS}][^{_BAD_CHARS}]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
REGION_PATTERN = r"^[A-Za-z0-9-]{0,32}$"
MODEL_PATTERN = rf"^[^\s{_BAD_CHARS}]{{1,200}}$"
_NAME = re.compile(NAME_PATTERN)
_SLUG = re.compile(SLUG_PATTERN)
_REGION = re.compile(REGION_PATTERN)
_MODEL = re.compile(MODEL_PATTERN)


def check_slug(value: object, field: str) -> str:
    """``value`` if it is a slug id; a typed error naming ``field`` otherwise."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise IdentityInputError(
            f"{field} {value!r} is not a valid id: use 1-63 lowercase letters, digits and "
            "dashes, starting with a letter or digit (e.g. 'acme-research')", field=field)
    return value


def check_name(value: object, field: str = "name") -> str:
    """A display name: 1..200 characters without control characters, surrounding space
    removed."""
    if not isinstance(value, str) or not _NAME.match(value) or _SURROGATE.search(value) or \
            len(text := value.strip()) > MAX_NAME_CHARS:
        raise IdentityInputError(
            f"{field} {value!r} is not a valid name: give 1-{MAX_NAME_CHARS} characters, "
            "not only spaces, without control characters", field=field)
    return text


def check_sector(value: object) -> Sector:
    for sector in SECTORS:
        if value == sector:
            return sector
    raise IdentityInputError(
        f"sector {value!r} is unknown: use one of {', '.join(SECTORS)}", field="sector")


def check_region(value: object) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise IdentityInputError(
            f"region {value!r} is not valid: use up to 32 letters, digits and dashes, "
            "e.g. CN, CN-GD or EU", field="region")
    return value


def check_models(models: object) -> tuple[str, ...]:
    """A key's allow-list: distinct model names, at most ``MAX_MODELS_PER_KEY``."""
    if not isinstance(models, (tuple, list)) or len(models) > MAX_MODELS_PER_KEY:
        raise IdentityInputError(
            f"models must be a list of at most {MAX_MODELS_PER_KEY} model names (empty = all)",
            field="models")
    for model in models:
        if not isinstance(model, str) or not _MODEL.fullmatch(model) or _SURROGATE.search(model):
            raise IdentityInputError(
                f"model name {model!r} is not valid: 1-200 characters, no spaces or control "
                "characters",
                field="models")
    return tuple(dict.fromkeys(models))


def check_rate_limit(value: object, field: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 1 <= value <= MAX_RATE_LIMIT:
        raise IdentityInputError(
            f"{field} must be a whole number from 1 to {MAX_RATE_LIMIT} (or unset for no "
            f"limit), got {value!r}", field=field)
    return value


def _check_time(value: dt.datetime, field: str) -> None:
    assert value.tzinfo is not None, f"{field} must be timezone-aware (UTC)"


def slugify(name: str) -> str:
    """An id for ``name``: ASCII letters and digits lowercased, the rest as dashes. A name
    with no ASCII letters or digits (e.g. 词元科技) gets ``t-`` and 8 hex digits of its
    SHA-256, so the same name always gives the same id."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:63].strip("-")
    if slug:
        return slug
    return "t-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Tenant:
    """A customer organisation: the unit of isolation, billing and statistics."""

    id: str
    name: str
    created_at: dt.datetime
    sector: Sector = "other"
    region: str = ""

    def __post_init__(self) -> None:
        check_slug(self.id, "tenant id")
        check_name(self.name)
        check_sector(self.sector)
        check_region(self.region)
        _check_time(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class Team:
    """A group inside a tenant (a department, a product); budgets and usage roll up to it."""

    tenant: str
    id: str
    name: str
    created_at: dt.datetime

    def __post_init__(self) -> None:
        check_slug(self.tenant, "tenant id")
        check_slug(self.id, "team id")
        check_name(self.name)
        _check_time(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class Agent:
    """An application or AI agent of a tenant, optionally in a team; calls are attributed
    to it."""

    tenant: str
    id: str
    name: str
    created_at: dt.datetime
    team: str | None = None

    def __post_init__(self) -> None:
        check_slug(self.tenant, "tenant id")
        check_slug(self.id, "agent id")
        check_name(self.name)
        if self.team is not None:
            check_slug(self.team, "team id")
        _check_time(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored API key: everything but the secret, of which only the SHA-256 is kept.

    ``prefix`` (``cy-<id>-`` and the secret's first 4 characters) is what lists show.
    ``models`` empty means every model; ``rate_limit_*`` None means no limit.
    """

    id: str
    tenant: str
    prefix: str
    secret_sha256: str
    created_at: dt.datetime
    name: str = ""
    team: str | None = None
    agent: str | None = None
    models: tuple[str, ...] = ()
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    revoked_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        check_slug(self.tenant, "tenant id")
        for field, value in (("team id", self.team), ("agent id", self.agent)):
            if value is not None:
                check_slug(value, field)
        check_models(self.models)
        check_rate_limit(self.rate_limit_rpm, "rate_limit_rpm")
        check_rate_limit(self.rate_limit_tpm, "rate_limit_tpm")
        assert re.fullmatch(r"[0-9a-f]{64}", self.secret_sha256), "secret_sha256 is hex"
        _check_time(self.created_at, "created_at")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(self.tenant, self.id, self.team, self.agent, self.models,
                         self.rate_limit_rpm, self.rate_limit_tpm)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, once a key is authenticated: what the gateway attributes a call to."""

    tenant: str
    key_id: str
    team: str | None = None
    agent: str | None = None
    models: tuple[str, ...] = ()
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None

    def allows(self, model: str) -> bool:
        """Whether the key may call ``model`` (an empty allow-list allows all)."""
        return not self.models or model in self.models

    def require_model(self, model: str) -> None:
        """Raise ``ModelNotAllowedError`` unless the key may call ``model``."""
        if not self.allows(model):
            raise ModelNotAllowedError(
                f"API key {self.key_id} may not call model {model!r}; it allows "
                f"{', '.join(self.models)}. Use one of those or a key without a model list",
                model=model, key_id=self.key_id)
