"""Typed errors of identity: tenants, teams, agents and API keys.

::

    InputError
    └── IdentityInputError        identity-invalid
        └── IdentityExistsError   identity-exists
    NotFoundError
    ├── UnknownTenantError        unknown-tenant
    ├── UnknownTeamError          unknown-team
    ├── UnknownAgentError         unknown-agent
    └── UnknownApiKeyError        unknown-api-key
    AuthenticationError           authentication-failed
    ├── InvalidApiKeyError        invalid-api-key
    └── RevokedApiKeyError        api-key-revoked
    ModelNotAllowedError          model-not-allowed
    IdentitySchemaError           identity-schema-newer
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, InputError, NotFoundError

__all__ = [
    "AuthenticationError",
    "IdentityExistsError",
    "IdentityInputError",
    "IdentitySchemaError",
    "InvalidApiKeyError",
    "ModelNotAllowedError",
    "RevokedApiKeyError",
    "UnknownAgentError",
    "UnknownApiKeyError",
    "UnknownTeamError",
    "UnknownTenantError",
]


class IdentityInputError(InputError):
    code = "identity-invalid"
    summary = ("A tenant, team, agent or API key field is malformed; the message names the "
               "field and the allowed form.")


class IdentityExistsError(IdentityInputError):
    code = "identity-exists"
    summary = ("A tenant (id or name), team, agent or key id is already taken; choose another "
               "name or pass `--id`.")


class UnknownTenantError(NotFoundError):
    code = "unknown-tenant"
    summary = "No tenant has that id or name; `ciyuan tenants list` shows them."


class UnknownTeamError(NotFoundError):
    code = "unknown-team"
    summary = "The tenant has no team of that id."


class UnknownAgentError(NotFoundError):
    code = "unknown-agent"
    summary = "The tenant has no agent of that id."


class UnknownApiKeyError(NotFoundError):
    code = "unknown-api-key"
    summary = "The tenant has no API key of that id; `ciyuan keys list --tenant T` shows them."


class AuthenticationError(CiyuanError):
    code = "authentication-failed"
    summary = "The caller could not be authenticated."


class InvalidApiKeyError(AuthenticationError):
    code = "invalid-api-key"
    summary = ("The presented API key is malformed or unknown; keys look like `cy-<id>-<secret>` "
               "and are made by `ciyuan keys create`.")


class RevokedApiKeyError(AuthenticationError):
    code = "api-key-revoked"
    summary = "The API key was revoked; create a new one with `ciyuan keys create`."


class ModelNotAllowedError(CiyuanError):
    code = "model-not-allowed"
    summary = "The API key may not call that model; the message lists the models it allows."


class IdentitySchemaError(CiyuanError):
    code = "identity-schema-newer"
    summary = ("The database has identity migrations this ciyuan does not know; upgrade ciyuan "
               "or use another database.")
