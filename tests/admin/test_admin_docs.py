"""docs/reference/admin-api.md lists every operation of the OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "admin-api.md"


def test_every_operation_is_documented(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    operations = {f"{method.upper()} {path}" for path, item in paths.items() for method in item}
    documented = set(re.findall(r"^\| `(\w+ /api[^`?]*)", DOC.read_text("utf-8"), re.M))
    assert documented == operations
