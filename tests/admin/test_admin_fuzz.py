"""Schemathesis drives every /api operation from the OpenAPI document: no 5xx, and every
response matches the document (errors in the one shape). Bounded to run in a few seconds:
``_EXAMPLES`` cases per operation, derandomized so a run is repeatable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from admin_constants import AUTH
from hypothesis import HealthCheck, given, settings

from ciyuan.admin import AdminServices, build_admin_app

_EXAMPLES = 25
_OPEN_PATHS = ("/api/health", "/api/receipts/public-key")


@pytest.fixture
def admin_schema(services: AdminServices) -> Any:
    directory = services.directory
    directory.create_tenant("Acme", tenant_id="acme")  # something for lookups to find
    directory.issue_key("acme", agent="bot")
    return schemathesis.openapi.from_asgi("/api/openapi.json", build_admin_app(services))


def _fuzz(schema: Any, check: Callable[[Any], None]) -> list[str]:
    """Run ``check`` on generated cases of every operation; the operations it fails on."""
    failed = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            check(case)

        try:
            run()
        except AssertionError as exc:
            failed.append(f"{operation.label}: {exc}")
    return failed


def test_no_operation_answers_5xx_and_responses_match_the_document(admin_schema: Any) -> None:
    def check(case: Any) -> None:
        response = case.call(headers=AUTH)
        assert response.status_code < 500, response.text
        case.validate_response(response)
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message"}, response.text

    assert _fuzz(admin_schema, check) == []


def test_without_a_token_only_the_open_endpoints_answer(admin_schema: Any) -> None:
    def check(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500, response.text
        if case.path not in _OPEN_PATHS:
            assert response.status_code in (401, 404, 405, 422), response.text

    assert _fuzz(admin_schema, check) == []
