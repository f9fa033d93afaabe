"""Start ``ciyuan serve`` as a real process and wait for it: for the demo, evaluations and
tests (the gateway's counterpart of ``ciyuan.sim.process.SimProcess``)."""

from __future__ import annotations

import sys
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

    def command(self) -> list[str]:
        config = ["--config", str(self.config)] if self.config is not None else []
        return [sys.executable, "-m", "ciyuan", "--db", self.db_url, *config, "serve",
                *self.args]
