"""A multi-worker gateway never leaves its workers behind, whether it is stopped (SIGTERM)
or killed (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from gateway_procs import GatewayProcess

from ciyuan.sim.process import SimProcess


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose: it holds no socket and runs nothing
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_workers_go_with_the_server(tmp_path: Path, how: signal.Signals) -> None:
    sim = SimProcess(["--models", "gpt-4o"])
    gateway = GatewayProcess(f"sqlite:///{tmp_path}/w.db", ["--workers", "2"])
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        gateway.start()
        assert gateway.proc is not None
        deadline = time.monotonic() + 15  # the socket is announced before the workers fork
        while len(workers := _children(gateway.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2
        os.kill(gateway.proc.pid, how)
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "workers outlived their server"
    finally:
        gateway.stop()
        sim.stop()
