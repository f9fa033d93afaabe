"""The /api admin API: auth, tenants, keys, the receipt public key, one error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from admin_constants import AUTH
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount

from ciyuan.admin import AdminServices, Directory, build_admin_app
from ciyuan.identity import RevokedApiKeyError
from ciyuan.receipt import load_public_key


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


def _tenant(client: TestClient, name: str = "Acme Research", **extra: Any) -> dict[str, Any]:
    response = client.post("/api/tenants", json={"name": name, **extra}, headers=AUTH)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_health_and_public_key_need_no_token(client: TestClient, services: AdminServices,
                                             tmp_path: Any) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    body = client.get("/api/receipts/public-key").json()
    assert services.receipt_public_key is not None
    assert body["key_id"] == services.receipt_public_key.key_id
    assert body["algorithm"] == "Ed25519" and body["header"] == "X-Ciyuan-Receipt"
    pem = tmp_path / "gateway.pem"
    pem.write_text(body["public_key_pem"])
    assert load_public_key(pem).key_id == body["key_id"]


def test_admin_calls_need_the_token(client: TestClient) -> None:
    message = _error(client.get("/api/tenants"), 401, "admin-unauthorized")
    assert "Bearer" in message
    wrong = client.get("/api/tenants", headers={"Authorization": "Bearer nope"})
    _error(wrong, 401, "admin-unauthorized")
    assert wrong.headers["www-authenticate"] == "Bearer"
    _error(client.get("/api/tenants", headers={"Authorization": "Basic eDp5"}), 401,
           "admin-unauthorized")


def test_without_a_configured_token_admin_calls_are_refused(services: AdminServices) -> None:
    closed = AdminServices(services.directory, admin_token=None)
    with TestClient(build_admin_app(closed)) as client:
        message = _error(client.get("/api/tenants", headers=AUTH), 403, "admin-disabled")
        assert "CIYUAN_ADMIN_TOKEN" in message
        assert client.get("/api/health").status_code == 200
        _error(client.get("/api/receipts/public-key"), 404, "not-found")


def test_tenants_create_list_get(client: TestClient) -> None:
    created = _tenant(client, sector="finance", region="CN")
    assert created["id"] == "acme-research" and created["sector"] == "finance"
    _tenant(client, "词元科技", id="ciyuan-tech")
    listed = client.get("/api/tenants", headers=AUTH).json()
    assert [t["id"] for t in listed["tenants"]] == ["acme-research", "ciyuan-tech"]
    assert listed["next_after"] is None
    page = client.get("/api/tenants?limit=1", headers=AUTH).json()
    assert page["next_after"] == "acme-research"
    assert client.get("/api/tenants/ciyuan-tech", headers=AUTH).json()["name"] == "词元科技"
    _error(client.get("/api/tenants/nobody", headers=AUTH), 404, "unknown-tenant")
    _error(client.post("/api/tenants", json={"name": "Acme Research"}, headers=AUTH), 409,
           "identity-exists")


def test_validation_errors_have_the_one_shape(client: TestClient) -> None:
    message = _error(client.post("/api/tenants", json={"name": ""}, headers=AUTH), 422,
                     "invalid-input")
    assert "body.name" in message
    _error(client.post("/api/tenants", json={"name": "x", "sector": "mining"}, headers=AUTH),
           422, "invalid-input")
    _error(client.post("/api/tenants", json={"name": "x", "extra": 1}, headers=AUTH), 422,
           "invalid-input")
    _error(client.post("/api/tenants", content=b"{not json", headers=AUTH), 422,
           "invalid-input")
    _error(client.get("/api/tenants/Not_A_Slug", headers=AUTH), 422, "invalid-input")
    _error(client.post("/api/tenants", json={"name": "tab\there"}, headers=AUTH), 422,
           "invalid-input")
    lone_surrogate = b'{"name": "x\\ud800"}'  # valid JSON, but no UTF-8 text: refused, not 500
    _error(client.post("/api/tenants", content=lone_surrogate, headers=AUTH), 422,
           "invalid-input")
    _error(client.get("/api/no-such-thing"), 404, "not-found")
    _error(client.delete("/api/tenants", headers=AUTH), 405, "admin-method-not-allowed")


def test_a_key_secret_is_shown_once(client: TestClient, services: AdminServices) -> None:
    _tenant(client)
    response = client.post("/api/tenants/acme-research/keys", headers=AUTH, json={
        "agent": "support-bot", "team": "service", "models": ["gpt-4o-mini"],
        "rate_limit_rpm": 60})
    assert response.status_code == 201 and response.headers["cache-control"] == "no-store"
    issued = response.json()
    secret, key = issued["secret"], issued["key"]
    assert secret.startswith(f"cy-{key['id']}-") and key["active"]
    principal = services.directory.authenticate(secret)
    assert (principal.tenant, principal.agent, principal.team) == ("acme-research",
                                                                  "support-bot", "service")
    listed = client.get("/api/tenants/acme-research/keys", headers=AUTH)
    assert secret not in listed.text and "sha256" not in listed.text
    assert [k["id"] for k in listed.json()["keys"]] == [key["id"]]
    got = client.get(f"/api/tenants/acme-research/keys/{key['id']}", headers=AUTH).json()
    assert got == key
    agents = client.get("/api/tenants/acme-research/agents", headers=AUTH).json()["agents"]
    assert [(a["id"], a["team"]) for a in agents] == [("support-bot", "service")]
    teams = client.get("/api/tenants/acme-research/teams", headers=AUTH).json()["teams"]
    assert [t["id"] for t in teams] == ["service"]


def test_revoking_refuses_the_key_at_once(client: TestClient, services: AdminServices) -> None:
    _tenant(client)
    issued = client.post("/api/tenants/acme-research/keys", headers=AUTH, json={}).json()
    services.directory.authenticate(issued["secret"])  # now cached
    key_id = issued["key"]["id"]
    revoked = client.post(f"/api/tenants/acme-research/keys/{key_id}/revoke", headers=AUTH)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    with pytest.raises(RevokedApiKeyError):
        services.directory.authenticate(issued["secret"])
    again = client.post(f"/api/tenants/acme-research/keys/{key_id}/revoke", headers=AUTH)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_one_tenant_cannot_reach_another_tenants_keys(client: TestClient) -> None:
    _tenant(client, "Acme")
    _tenant(client, "Beta")
    key_id = client.post("/api/tenants/acme/keys", headers=AUTH, json={}).json()["key"]["id"]
    _error(client.get(f"/api/tenants/beta/keys/{key_id}", headers=AUTH), 404, "unknown-api-key")
    _error(client.post(f"/api/tenants/beta/keys/{key_id}/revoke", headers=AUTH), 404,
           "unknown-api-key")
    assert client.get("/api/tenants/beta/keys", headers=AUTH).json()["keys"] == []
    assert client.get(f"/api/tenants/acme/keys/{key_id}", headers=AUTH).json()["active"]
    _error(client.get("/api/tenants/nobody/keys", headers=AUTH), 404, "unknown-tenant")


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["info"]["title"] == "ciyuan admin API"
    assert "/api/tenants/{tenant_id}/keys/{key_id}/revoke" in doc["paths"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    create = doc["paths"]["/api/tenants"]["post"]["responses"]
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorOut")


def test_the_app_can_be_mounted_under_api(services: AdminServices) -> None:
    outer = Starlette(routes=[Mount("/api", build_admin_app(services, prefix=""))])
    with TestClient(outer) as client:
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/api/tenants", headers=AUTH).json()["tenants"] == []
        assert client.get("/api/openapi.json").status_code == 200


def test_an_unexpected_failure_is_a_500_in_the_one_shape(services: AdminServices) -> None:
    class Broken:
        def key_by_id(self, key_id: str) -> None:
            return None

        def tenants(self, **page: Any) -> Any:
            raise RuntimeError("disk on fire")

    directory = Directory(Broken())  # type: ignore[arg-type]
    broken = AdminServices(directory, admin_token=services.admin_token)
    with TestClient(build_admin_app(broken), raise_server_exceptions=False) as client:
        message = _error(client.get("/api/tenants", headers=AUTH), 500, "admin-internal-error")
        assert "disk on fire" not in message
