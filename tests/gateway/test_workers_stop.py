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


def test_interrupted_gateway_closes_its_upstream_pool(tmp_path: Path) -> None:
    import httpx
    from gateway_procs import tenant_and_key

    db_url = f"sqlite:///{tmp_path}/p.db"
    key = tenant_and_key(db_url, "acme")
    sim = SimProcess(["--models", "gpt-4o"])
    gateway = GatewayProcess(db_url)
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        url = gateway.start()
        answer = httpx.post(f"{url}/v1/chat/completions", timeout=30,
                            headers={"authorization": f"Bearer {key}"},
                            json={"model": "gpt-4o", "messages": [{"role": "user",
                                                                   "content": "hi"}]})
        assert answer.status_code == 200, answer.text  # the pool holds a connection now
        assert gateway.proc is not None
        os.kill(gateway.proc.pid, signal.SIGINT)  # Ctrl-C: the interpreter exits normally
        gateway.proc.wait(15)
        assert "Unclosed" not in gateway.stderr()  # aiohttp's warning for a pool left open
    finally:
        gateway.stop()
        sim.stop()
