"""ciyuan.identity: who is calling — tenants, teams, agents and API keys (pure values + logic).

Owns the identity values (:class:`Tenant`, :class:`Team`, :class:`Agent`, :class:`ApiKey`,
:class:`Principal`), the key format ``cy-<id>-<secret>``, issuing keys and constant-time
authentication. In: names, options and presented keys; out: validated values and principals.
Persistence is ``ciyuan.store.identity`` (SQLite, PostgreSQL); the admin workflows are
``ciyuan.admin``. See docs/concepts/identity.md.
"""

from ciyuan.identity.cache import KeyCache
from ciyuan.identity.errors import (
    AuthenticationError,
    IdentityExistsError,
    IdentityInputError,
    IdentitySchemaError,
    InvalidApiKeyError,
    ModelNotAllowedError,
    RevokedApiKeyError,
    UnknownAgentError,
    UnknownApiKeyError,
    UnknownTeamError,
    UnknownTenantError,
)
from ciyuan.identity.keys import IssuedKey, authenticate, hash_key, issue_key, key_id_of
from ciyuan.identity.model import (
    SECTORS,
    Agent,
    ApiKey,
    Principal,
    Sector,
    Team,
    Tenant,
    slugify,
)

__all__ = [
    "SECTORS",
    "Agent",
    "ApiKey",
    "AuthenticationError",
    "IdentityExistsError",
    "IdentityInputError",
    "IdentitySchemaError",
    "InvalidApiKeyError",
    "IssuedKey",
    "KeyCache",
    "ModelNotAllowedError",
    "Principal",
    "RevokedApiKeyError",
    "Sector",
    "Team",
    "Tenant",
    "UnknownAgentError",
    "UnknownApiKeyError",
    "UnknownTeamError",
    "UnknownTenantError",
    "authenticate",
    "hash_key",
    "issue_key",
    "key_id_of",
    "slugify",
]
