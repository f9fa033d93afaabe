"""Real processes for end-to-end tests: the sim-provider and the gateway on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.sim.process import SimProcess


class GatewayProcess(SimProcess):
    """``ciyuan --db URL serve --port 0 ...`` as a child process (stopped by pid)."""

    def __init__(self, db_url: str, args: Sequence[str] = ()) -> None:
        super().__init__(list(args))
        self.db_url = db_url

    def launch(self) -> None:
        command = [sys.executable, "-m", "ciyuan", "--db", self.db_url, "serve", *self.args]
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._errors)


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
