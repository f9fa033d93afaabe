"""Start a sim-provider as a real process and wait for it: for tests, benchmarks and demos.

::

    with SimProcess(["--seed", "7", "--log", str(log)]) as sim:
        client = openai.OpenAI(base_url=sim.url + "/v1", api_key="unused")

The process is started with ``--port 0`` (a free port) unless the arguments give one, and
is ready once it prints its ``listening on`` line (waited for at most ``START_TIMEOUT_S``).
Leaving the block stops it by its pid (SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from types import TracebackType
from typing import IO

__all__ = ["START_TIMEOUT_S", "STOP_TIMEOUT_S", "SimProcess"]

#: Start-up loads the served models' vocabularies (~2 s for all built-ins on a slow core).
START_TIMEOUT_S = 60.0
#: Graceful shutdown flushes the usage log; anything slower is killed.
STOP_TIMEOUT_S = 10.0
_PREFIX = "listening on "


class SimProcess:
    """A ``ciyuan sim-provider`` child process."""

    def __init__(self, args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        if "--port" not in self.args:
            self.args += ["--port", "0"]
        self.env = env
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Start the process and wait until it listens; returns its base URL."""
        self.launch()
        return self.wait_ready(timeout_s)

    def launch(self) -> None:
        """Start the process without waiting (start several, then ``wait_ready`` each)."""
        command = self.command()
        # stderr goes to a file, not a pipe nobody reads: a chatty server never blocks on it
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._errors,
                                     env=self.env)

    def command(self) -> list[str]:
        """The command line of the child process."""
        return [sys.executable, "-m", "ciyuan", "sim-provider", *self.args]

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Wait for the ``listening on`` line; returns the base URL (``http://HOST:PORT``)."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.stop()
                    raise TimeoutError(f"sim-provider did not start in {timeout_s}s")
                byte = os.read(self.proc.stdout.fileno(), 1)
                if not byte:
                    self.proc.wait(STOP_TIMEOUT_S)
                    error = self.stderr()
                    self.stop()
                    raise RuntimeError(f"sim-provider exited before listening: {error}")
                line += byte
        text = line.decode().strip()
        assert text.startswith(_PREFIX), text
        self.url = text.removeprefix(_PREFIX)
        return self.url

    def stderr(self) -> str:
        """What the process wrote on stderr so far (the last 4,000 characters)."""
        if self._errors is None:
            return ""
        self._errors.seek(0)
        return self._errors.read().decode("utf-8", "replace")[-4000:]

    def stop(self) -> int | None:
        """Stop the process by its pid; returns its exit status."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT_S)
        if proc.stdout is not None:
            proc.stdout.close()
        if self._errors is not None:
            self._errors.close()
            self._errors = None
        self.proc = None
        return proc.returncode

    def __enter__(self) -> SimProcess:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
