"""ciyuan.admin: the admin API under ``/api`` and the identity workflows behind it.

Owns ``build_admin_app(services)`` (FastAPI; OpenAPI at ``/api/openapi.json``; one error
shape ``{"error": {"code", "message"}}``), :class:`AdminServices` and the :class:`Directory`
(create tenants, teams, agents and keys; revoke; authenticate) that the CLI uses too.
In: HTTP requests with an admin Bearer token; out: JSON. See docs/reference/admin-api.md.

FastAPI is imported only when ``build_admin_app`` is first used, so the CLI stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ciyuan.admin.directory import Directory
from ciyuan.admin.services import AdminServices, open_admin_services

if TYPE_CHECKING:
    from ciyuan.admin.app import build_admin_app

__all__ = ["AdminServices", "Directory", "build_admin_app", "open_admin_services"]


def __getattr__(name: str) -> Any:
    if name == "build_admin_app":
        from ciyuan.admin.app import build_admin_app

        return build_admin_app
    raise AttributeError(f"module 'ciyuan.admin' has no attribute {name!r}")
