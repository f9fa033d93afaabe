"""Start ``ciyuan serve`` as a real process and wait for it: for the demo, evaluations and
tests (the gateway's counterpart of ``ciyuan.sim.process.SimProcess``)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ciyuan.sim.process import SimProcess

__all__ = ["GatewayProcess"]


class GatewayProcess(SimProcess):
    """``ciyuan --db URL [--config FILE] serve --port 0 ...`` as a child process (stopped by
    its pid; its workers go with it)."""

    def __init__(self, db_url: str, args: Sequence[str] = (),
                 config: Path | None = None) -> None:
        super().__init__(list(args))
        self.db_url = db_url
        self.config = config

    def launch(self) -> None:
        command = [sys.executable, "-m", "ciyuan", "--db", self.db_url]
        if self.config is not None:
            command += ["--config", str(self.config)]
        command += ["serve", *self.args]
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._errors)
