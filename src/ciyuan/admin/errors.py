"""Typed errors of the admin API (``/api``); each maps to one HTTP status in ``app.py``."""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, InputError
from ciyuan.identity.errors import AuthenticationError

__all__ = ["AdminDisabledError", "AdminInternalError", "AdminUnauthorizedError",
           "MethodNotAllowedError"]


class AdminUnauthorizedError(AuthenticationError):
    code = "admin-unauthorized"
    summary = ("The admin call has no `Authorization: Bearer <token>` header, or the wrong "
               "token; use the value of CIYUAN_ADMIN_TOKEN.")


class AdminDisabledError(CiyuanError):
    code = "admin-disabled"
    summary = ("No admin token is configured, so admin calls are refused; set "
               "CIYUAN_ADMIN_TOKEN (or ciyuan.toml `[admin] token`) and restart.")


class MethodNotAllowedError(InputError):
    code = "admin-method-not-allowed"
    summary = ("The path exists but not with that HTTP method; docs/reference/admin-api.md "
               "lists the endpoints.")


class AdminInternalError(CiyuanError):
    code = "admin-internal-error"
    summary = "An unexpected server error; the server log has the details."
