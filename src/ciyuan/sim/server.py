"""Running the sim-provider: uvicorn (uvloop + httptools) on a socket bound before start-up.

The socket is bound first so that ``--port 0`` can pick a free port; once uvicorn has
started (lifespan done, accepting), one line ``listening on http://HOST:PORT`` is printed to
stdout and flushed: tests and scripts wait for it. SIGINT / SIGTERM shut down gracefully (the
usage log is fsync'd and closed).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import TextIO

import uvicorn

from ciyuan.measure.measurer import Measurer
from ciyuan.sim.app import build_app
from ciyuan.sim.config import SimConfig
from ciyuan.sim.exchange import SimulatedDisconnect

__all__ = ["listening_line", "serve"]

#: Pending connections the kernel queues before uvicorn accepts them (uvicorn's default).
BACKLOG = 2048


class _DropInjectedDisconnects(logging.Filter):
    """An injected disconnect is the sim-provider working as asked, not an error to print."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, SimulatedDisconnect)


def listening_line(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"listening on http://{shown}:{port}"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, line: str, out: TextIO) -> None:
        super().__init__(config)
        self._line = line
        self._out = out

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(self._line, file=self._out, flush=True)


def serve(config: SimConfig, host: str = "127.0.0.1", port: int = 0,
          out: TextIO = sys.stdout, measurer: Measurer | None = None) -> None:
    """Serve until interrupted (blocks)."""
    app = build_app(config, measurer)  # resolve models before binding
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    bound_port = sock.getsockname()[1]
    logging.getLogger("uvicorn.error").addFilter(_DropInjectedDisconnects())
    uv_config = uvicorn.Config(
        app, loop="uvloop" if sys.platform != "win32" else "asyncio", http="httptools",
        lifespan="on", access_log=False, log_level="warning", timeout_graceful_shutdown=5,
    )
    try:
        _Server(uv_config, listening_line(host, bound_port), out).run(sockets=[sock])
    finally:
        sock.close()
