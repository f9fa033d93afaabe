"""``build_admin_app``: the FastAPI application of ``/api``, with one error shape.

Every error, whatever raised it, leaves as ``{"error": {"code": ..., "message": ...}}`` with
the ``CiyuanError`` code (docs/errors.md): typed errors by their class, request validation
as ``invalid-input`` (422), unknown paths as ``not-found`` (404), anything unexpected as
``admin-internal-error`` (500, details only in the server log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ciyuan import __version__
from ciyuan.admin.errors import (
    AdminDisabledError,
    AdminInternalError,
    MethodNotAllowedError,
)
from ciyuan.admin.routes import build_router
from ciyuan.admin.services import AdminServices
from ciyuan.core.errors import CiyuanError, InputError, NotFoundError
from ciyuan.identity import AuthenticationError, IdentityExistsError

__all__ = ["build_admin_app", "error_response", "status_of"]

log = logging.getLogger("ciyuan.admin")

#: Error class → HTTP status; the first class in an error's MRO that is listed wins
#: (``AdminUnauthorizedError`` and the key errors are ``AuthenticationError``: 401).
STATUS_BY_ERROR: dict[type[CiyuanError], int] = {
    AdminDisabledError: 403,
    AuthenticationError: 401,
    IdentityExistsError: 409,
    MethodNotAllowedError: 405,
    InputError: 422,
    NotFoundError: 404,
}


def status_of(error: CiyuanError) -> int:
    """The HTTP status of a typed error (500 for those that are not the caller's fault)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:  # bound: the first five problems are enough to act on
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) + " (see /api/openapi.json for the request schema)"


def _install_error_handlers(app: FastAPI) -> None:
    async def on_ciyuan_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CiyuanError)
        status = status_of(exc)
        if status >= 500:
            log.error("admin API error %s on %s", exc.code, request.url.path, exc_info=exc)
        return error_response(status, exc.code, exc.message)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, InputError.code, _validation_message(exc))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(404, NotFoundError.code,
                                  f"no endpoint {request.url.path}; see /api/openapi.json")
        if exc.status_code == 405:
            return error_response(405, MethodNotAllowedError.code,
                                  f"{request.method} is not allowed on {request.url.path}")
        code = InputError.code if exc.status_code < 500 else AdminInternalError.code
        return error_response(exc.status_code, code, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected admin API error on %s", request.url.path, exc_info=exc)
        return error_response(500, AdminInternalError.code,
                              "internal error; the server log has the details")

    app.add_exception_handler(CiyuanError, on_ciyuan_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def build_admin_app(services: AdminServices, *, prefix: str = "/api") -> FastAPI:
    """The admin API. With the default ``prefix`` the app serves ``/api/...`` itself: route
    every request whose path starts with ``/api/`` to it unchanged. To mount it instead
    (``Mount("/api", app)``), pass ``prefix=""``."""
    app = FastAPI(title="ciyuan admin API", version=__version__,
                  description="Tenants, teams, agents, API keys and the receipt public key. "
                              "Errors: {\"error\": {\"code\", \"message\"}}.",
                  openapi_url=f"{prefix}/openapi.json", docs_url=f"{prefix}/docs",
                  redoc_url=None)
    _install_error_handlers(app)
    app.include_router(build_router(services), prefix=prefix)
    app.state.services = services
    return app

