"""Admin services come from the settings: the token (never printed), the store, the key."""

from __future__ import annotations

import stat
from pathlib import Path

from ciyuan.admin import open_admin_services
from ciyuan.settings import load_settings


def test_token_and_key_path_come_from_env_or_ciyuan_toml(tmp_path: Path) -> None:
    (tmp_path / "ciyuan.toml").write_text('[admin]\ntoken = "from-file"\n'
                                          '[receipts]\nkey = "keys/receipt.pem"\n')
    from_file = load_settings({}, {}, cwd=tmp_path)
    assert from_file.admin_token == "from-file"
    assert from_file.receipt_key_path == Path("keys/receipt.pem")
    from_env = load_settings({}, {"CIYUAN_ADMIN_TOKEN": "from-env",
                                  "CIYUAN_RECEIPT_KEY": "/k"}, cwd=tmp_path)
    assert from_env.admin_token == "from-env" and from_env.receipt_key_path == Path("/k")
    assert "from-env" not in repr(from_env)
    assert load_settings({}, {}, cwd=tmp_path / "nowhere").admin_token is None


def test_open_admin_services_makes_the_receipt_key_on_first_run(tmp_path: Path) -> None:
    settings = load_settings({"db_url": f"sqlite:///{tmp_path / 'ciyuan.db'}"},
                             {"CIYUAN_ADMIN_TOKEN": "t"}, cwd=tmp_path)
    services = open_admin_services(settings)
    try:
        key_file = tmp_path / "ciyuan.db.receipt-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert services.receipt_public_key is not None and services.admin_token == "t"
        assert services.directory.tenants() == []
        assert "'t'" not in repr(services)
    finally:
        services.close()
