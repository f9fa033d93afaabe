"""Helpers of ``bench_gateway.py``: the processes' lifetime and the two load shapes.

Processes are started in their own session (``start_new_session``) under ``taskset`` and
stopped by process group, so a proxy's workers go with it; ``Children`` remembers every one
and ``stop_all`` runs on exit, on SIGTERM and on Ctrl-C.

Load comes from one asyncio process with a pool of keep-alive connections
(``gateway_client.Pool``, the same client code for every contender). Latency is measured to
the last byte of the body (streamed or not). The open loop schedules call *i* at
``start + i / rate`` whatever happened before, and measures each latency from that intended
instant, so a server that falls behind is charged for the queue it builds (no coordinated
omission).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from gateway_client import HttpError, Pool

__all__ = ["BODY", "Children", "OpenResult", "closed_loop", "free_port", "open_loop",
           "pct", "tree_cpu_seconds", "wait_http"]

#: One small chat call; the sim answers a fixed 48 tokens (``--answer-tokens 48-48``).
BODY = {"model": "gpt-4o", "max_tokens": 64,
        "messages": [{"role": "user", "content": "How are tokens priced?"}]}
#: Seconds to wait for a contender to answer its first request (LiteLLM imports for ~10 s).
READY_TIMEOUT_S = 90.0
#: Grace for SIGTERM before SIGKILL when stopping a contender's process group.
STOP_TIMEOUT_S = 10.0
#: Per-request timeout; an overloaded contender's late answers count as failures past it.
REQUEST_TIMEOUT_S = 30.0
#: Open loop: requests still running this long after the last one was due are abandoned.
DRAIN_S = 5.0
#: Open loop connection pool: enough that the client never queues at a sustainable rate
#: (rate x latency is < 64 for every contender below its knee).
OPEN_POOL = 256


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Children:
    """The processes this benchmark started; each in its own process group."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, command: Sequence[str], cpu: int | None, log: Path,
              env: dict[str, str] | None = None, cwd: Path | None = None
              ) -> subprocess.Popen[bytes]:
        """Start ``command`` pinned to ``cpu`` (when taskset and 2+ CPUs are there)."""
        pinned = list(command)
        if cpu is not None and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            pinned = ["taskset", "-c", str(cpu), *pinned]
        with log.open("ab") as out:
            proc = subprocess.Popen(pinned, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM the process group, SIGKILL it after ``STOP_TIMEOUT_S``."""
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT_S)
        _signal_group(proc.pid, signal.SIGKILL)  # workers left behind by a dead leader

    def stop_all(self) -> None:
        """Stop every process started, newest first."""
        while self.procs:
            self.stop(self.procs.pop())


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path,
              headers: dict[str, str] | None = None) -> None:
    """Wait until ``url`` answers 200 (polling), or fail with the tail of ``log``."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready in {READY_TIMEOUT_S}s: {log.read_text()[-2000:]}")


def _descendants(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:
                continue
            found += kids
            frontier += kids
    return found


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and every live descendant (nginx's worker, uvicorn's), plus
    what their reaped children used (cutime + cstime)."""
    total = 0
    for member in _descendants(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def pct(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _pool(url: str, headers: dict[str, str], stream: bool, size: int) -> Pool:
    return Pool(url, size, "/v1/chat/completions", {**BODY, "stream": stream}, headers)


async def _call(pool: Pool) -> None:
    async with asyncio.timeout(REQUEST_TIMEOUT_S):
        await pool.post()


async def closed_loop(url: str, headers: dict[str, str], n: int, concurrency: int,
                      stream: bool) -> tuple[list[float], float]:
    """``n`` calls from ``concurrency`` workers, each sending its next call when the last
    ended; the latencies (s) and the wall time (s)."""
    latencies: list[float] = []
    left = [n]
    pool = _pool(url, headers, stream, concurrency)

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            begin = time.perf_counter()
            await _call(pool)
            latencies.append(time.perf_counter() - begin)
    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - begin
    await pool.close()
    return latencies, wall


@dataclass(frozen=True)
class OpenResult:
    """One open-loop step: what was offered, what came back, and how fast."""

    offered_rps: float
    achieved_rps: float
    sent: int
    failed: int
    p50_ms: float
    p99_ms: float
    client_cpu_share: float  # the load generator's CPU-seconds / wall seconds


async def open_loop(url: str, headers: dict[str, str], rate: float, duration_s: float,
                    stream: bool) -> OpenResult:
    """Calls due at ``rate`` per second for ``duration_s``; each latency counted from the
    instant it was due. Achieved rate = completed calls / (last completion - first due)."""
    n = max(1, round(rate * duration_s))
    latencies: list[float] = []
    failed = [0]
    done_at = [0.0]
    pool = _pool(url, headers, stream, OPEN_POOL)

    async def one(due: float) -> None:
        try:
            await _call(pool)
        except (HttpError, TimeoutError):
            failed[0] += 1
            return
        now = time.perf_counter()
        latencies.append(now - due)
        done_at[0] = max(done_at[0], now)

    cpu0 = time.process_time()
    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(n):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    _, pending = await asyncio.wait(tasks, timeout=DRAIN_S)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    wall = time.perf_counter() - start
    failed[0] += len(pending)
    await pool.close()
    span = max(done_at[0] - start, duration_s) if latencies else wall
    return OpenResult(
        offered_rps=rate, achieved_rps=len(latencies) / span, sent=n, failed=failed[0],
        p50_ms=pct(latencies, 0.5) * 1000 if latencies else float("inf"),
        p99_ms=pct(latencies, 0.99) * 1000 if latencies else float("inf"),
        client_cpu_share=(time.process_time() - cpu0) / wall)
