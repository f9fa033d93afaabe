"""Gateway errors and the two envelopes they travel in.

``/v1`` speaks OpenAI's ``{"error": {"message", "type", "param", "code"}}``;
``/v1/messages`` speaks Anthropic's ``{"type": "error", "error": {"type", "message"}}``.
Every error carries a ciyuan code; no stack trace ever reaches a client.
"""

from __future__ import annotations

import json
from typing import ClassVar, Literal

from ciyuan.core.errors import CiyuanError, InputError, NotFoundError
from ciyuan.identity.errors import AuthenticationError, ModelNotAllowedError

__all__ = [
    "AuthenticationError",
    "BodyTooLargeError",
    "BudgetExceededError",
    "GatewayError",
    "MethodNotAllowedError",
    "ModelNotAllowedError",
    "RateLimitedError",
    "UpstreamFailedError",
    "UpstreamTimeoutError",
    "error_body",
    "status_of",
]

Dialect = Literal["openai", "anthropic"]


class GatewayError(CiyuanError):
    code = "gateway-error"
    summary = "The gateway could not serve the request."
    status: ClassVar[int] = 500
    openai_type: ClassVar[str] = "server_error"


class BodyTooLargeError(GatewayError):
    code = "body-too-large"
    summary = "The request body is over the gateway's limit (8 MiB)."
    status = 413
    openai_type = "invalid_request_error"


class BudgetExceededError(GatewayError):
    code = "budget-exceeded"
    summary = "The call's maximum cost does not fit in a budget level; the message names it."
    status = 402
    openai_type = "insufficient_quota"


class MethodNotAllowedError(GatewayError):
    code = "method-not-allowed"
    summary = "The /v1 call routes take POST only (GET /v1/models lists the models)."
    status = 405
    openai_type = "invalid_request_error"


class RateLimitedError(GatewayError):
    code = "rate-limited"
    summary = "The key is over its requests- or tokens-per-minute limit; retry after the delay."
    status = 429
    openai_type = "rate_limit_error"


class UpstreamFailedError(GatewayError):
    code = "upstream-failed"
    summary = "Every upstream for the model failed; nothing beyond what was delivered is billed."
    status = 502
    openai_type = "api_error"


class UpstreamTimeoutError(GatewayError):
    code = "upstream-timeout"
    summary = "The upstream did not answer in time; nothing beyond what was delivered is billed."
    status = 504
    openai_type = "api_error"


_ANTHROPIC_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
    403: "permission_error", 404: "not_found_error", 405: "invalid_request_error",
    413: "request_too_large", 422: "invalid_request_error", 429: "rate_limit_error",
    500: "api_error",
    502: "api_error", 504: "timeout_error",
}


def status_of(error: CiyuanError) -> int:
    if isinstance(error, GatewayError):
        return error.status
    if isinstance(error, AuthenticationError):
        return 401
    if isinstance(error, ModelNotAllowedError):
        return 403
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, InputError):
        return 422
    return 500


def error_body(error: CiyuanError, dialect: Dialect = "openai") -> bytes:
    """The JSON body of ``error`` in the dialect of the route."""
    status = status_of(error)
    if dialect == "anthropic":
        payload: dict[str, object] = {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPES.get(status, "api_error"),
                      "message": error.message, "code": error.code},
        }
    else:
        kind = error.openai_type if isinstance(error, GatewayError) else (
            "authentication_error" if status == 401 else
            "permission_error" if status == 403 else
            "not_found_error" if status == 404 else
            "invalid_request_error" if status < 500 else "server_error")
        param = error.details.get("field") if isinstance(error.details.get("field"), str) else None
        payload = {"error": {"message": error.message, "type": kind, "param": param,
                             "code": error.code.replace("-", "_")}}
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
