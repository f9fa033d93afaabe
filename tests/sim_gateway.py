"""End-to-end test setup shared across test packages: ciyuan commands run in-process with
``--json``, a tenant with a key, and a real sim-provider behind a real gateway on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.gateway.process import GatewayProcess
from ciyuan.sim.process import SimProcess

__all__ = ["run_cli", "run_cli_any", "sim_gateway", "tenant_and_key"]


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


def tenant_and_key(db_url: str, tenant: str, *extra: str, sector: str = "software") -> str:
    """Create ``tenant`` in ``sector`` and a key for it (``extra``: more ``keys create``
    options); the key."""
    run_cli(db_url, "tenants", "create", tenant, "--sector", sector)
    return str(run_cli(db_url, "keys", "create", "--tenant", tenant, *extra)["key"])


@contextmanager
def sim_gateway(db_url: str, sim_args: Sequence[str], *, config: Path | None = None,
                env: dict[str, str] | None = None) -> Iterator[str]:
    """A sim-provider started with ``sim_args`` and a gateway on ``db_url`` routing to it
    (with ``config`` and process environment ``env`` if given); the gateway's base URL.
    Both processes are stopped when the block ends."""
    sim = SimProcess(sim_args)
    gateway = GatewayProcess(db_url, ["--port", "0"], config=config)
    if env is not None:
        gateway.env = env
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        yield gateway.start()
    finally:
        gateway.stop()
        sim.stop()
