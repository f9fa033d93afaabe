"""Real processes for end-to-end tests: the gateway on loopback, and CLI helpers."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.gateway.process import GatewayProcess

__all__ = ["GatewayProcess", "run_cli", "run_cli_any", "tenant_and_key"]


def run_cli_any(db_url: str, *args: str) -> object:
    """A ciyuan command with --json, in-process; its parsed JSON output."""
    result = CliRunner().invoke(cli, ["--db", db_url, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def run_cli(db_url: str, *args: str) -> dict[str, object]:
    """A ciyuan command whose --json output is one object."""
    data = run_cli_any(db_url, *args)
    assert isinstance(data, dict)
    return data


def tenant_and_key(db_url: str, tenant: str, *extra: str) -> str:
    run_cli(db_url, "tenants", "create", tenant, "--sector", "software")
    return str(run_cli(db_url, "keys", "create", "--tenant", tenant, *extra)["key"])
