from __future__ import annotations

from pathlib import Path

import pytest

from ciyuan.core.errors import ConfigError
from ciyuan.settings import DEFAULT_DB_URL, load_settings


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ciyuan.toml"
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, {}, cwd=tmp_path)
    assert settings.db_url == DEFAULT_DB_URL and settings.config_path is None


def test_precedence_flags_over_env_over_file_over_default(tmp_path: Path) -> None:
    _toml(tmp_path, '[store]\ndb = "sqlite:///file.db"\n[measure]\nthreads = 3\n')
    assert load_settings({}, {}, cwd=tmp_path).db_url == "sqlite:///file.db"
    assert load_settings({}, {}, cwd=tmp_path).threads == 3
    env = {"CIYUAN_DB": "sqlite:///env.db", "CIYUAN_THREADS": "4"}
    assert load_settings({}, env, cwd=tmp_path).db_url == "sqlite:///env.db"
    assert load_settings({}, env, cwd=tmp_path).threads == 4
    flags = {"db_url": "sqlite:///flag.db", "config_path": None}
    assert load_settings(flags, env, cwd=tmp_path).db_url == "sqlite:///flag.db"


def test_toml_floats_are_decimals(tmp_path: Path) -> None:
    from decimal import Decimal

    path = _toml(tmp_path, "[x]\nprice = 0.1\n")
    settings = load_settings({"config_path": str(path)}, {})
    assert settings.section("x")["price"] == Decimal("0.1")


@pytest.mark.parametrize(
    ("flags", "env", "field"),
    [
        ({"db_url": "mysql://x"}, {}, "db_url"),
        ({}, {"CIYUAN_THREADS": "many"}, "threads"),
        ({"config_path": "/nonexistent/ciyuan.toml"}, {}, "config_path"),
    ],
)
def test_bad_settings_name_the_key(
    flags: dict[str, object], env: dict[str, str], field: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(flags, env)
    assert info.value.details["field"] == field


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[store\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"config_path": str(path)}, {})
