"""`ciyuan tenants …` and `ciyuan keys …` against a SQLite database given by --db."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.identity import RevokedApiKeyError, authenticate
from ciyuan.store.identity import open_identity_store


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ciyuan.db'}"


def _run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def test_tenants_create_and_list(db: str) -> None:
    code, out, _ = _run(db, "tenants", "create", "Acme Research", "--sector", "finance",
                        "--region", "CN", "--json")
    assert code == 0 and json.loads(out)["id"] == "acme-research"
    code, out, _ = _run(db, "tenants", "create", "词元科技")
    assert code == 0 and "created tenant t-" in out
    code, out, _ = _run(db, "tenants", "list", "--json")
    assert [t["name"] for t in json.loads(out)] == ["Acme Research", "词元科技"]
    code, _, err = _run(db, "tenants", "create", "Acme Research")
    assert code == 2 and "error [identity-exists]" in err
    code, _, err = _run(db, "tenants", "create", "X", "--sector", "mining")
    assert code == 2 and "mining" in err


def test_a_created_key_is_shown_once_and_authenticates(db: str) -> None:
    _run(db, "tenants", "create", "Acme")
    code, out, _ = _run(db, "keys", "create", "--tenant", "Acme", "--agent", "support-bot",
                        "--team", "service", "--models", "gpt-4o-mini, deepseek-chat",
                        "--rpm", "60", "--tpm", "100000", "--json")
    assert code == 0
    created = json.loads(out)
    secret = created["key"]
    assert secret.startswith(f"cy-{created['id']}-")
    assert created["models"] == ["gpt-4o-mini", "deepseek-chat"]
    assert created["rate_limit_rpm"] == 60
    store = open_identity_store(db)
    try:
        principal = authenticate(secret, store.key_by_id)
        assert (principal.tenant, principal.agent, principal.team) == ("acme", "support-bot",
                                                                      "service")
    finally:
        store.close()
    code, out, _ = _run(db, "keys", "list", "--tenant", "acme", "--json")
    listed = json.loads(out)
    assert len(listed) == 1 and secret not in out and "secret" not in out
    code, out, _ = _run(db, "keys", "list", "--tenant", "acme")
    assert code == 0 and created["id"] in out and secret not in out


def test_plain_output_prints_only_the_key_on_stdout(db: str) -> None:
    _run(db, "tenants", "create", "Acme")
    code, out, err = _run(db, "keys", "create", "--tenant", "acme")
    assert code == 0 and out.strip().startswith("cy-") and "shown only now" in err


def test_a_revoked_key_is_refused(db: str) -> None:
    _run(db, "tenants", "create", "Acme")
    secret = _run(db, "keys", "create", "--tenant", "acme")[1].strip()
    code, out, _ = _run(db, "keys", "revoke", secret)  # the whole key works as its id
    assert code == 0 and "revoked API key" in out
    store = open_identity_store(db)
    try:
        with pytest.raises(RevokedApiKeyError):
            authenticate(secret, store.key_by_id)
    finally:
        store.close()
    code, out, _ = _run(db, "keys", "list", "--tenant", "acme", "--json")
    assert json.loads(out)[0]["active"] is False


def test_errors_name_the_fix(db: str) -> None:
    code, _, err = _run(db, "keys", "create", "--tenant", "nobody")
    assert code == 2 and "error [unknown-tenant]" in err and "tenants list" in err
    code, _, err = _run(db, "keys", "revoke", "AAAAAAAAAAAA")
    assert code == 2 and "error [unknown-api-key]" in err
    _run(db, "tenants", "create", "Acme")
    _run(db, "tenants", "create", "Beta")
    key_id = json.loads(_run(db, "keys", "create", "--tenant", "acme", "--json")[1])["id"]
    code, _, err = _run(db, "keys", "revoke", key_id, "--tenant", "beta")
    assert code == 2 and "unknown-api-key" in err  # another tenant's key is not found
    code, _, err = _run(db, "keys", "create", "--tenant", "acme", "--rpm", "0")
    assert code == 2 and "rate_limit_rpm" in err
