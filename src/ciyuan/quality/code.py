"""Code answers, run against the item's unit tests in a sandbox.

The answer's Python (its fenced block, else the whole text) and the reference tests (plain
``assert`` statements) run in a fresh interpreter (``python -I``) in an empty temporary
directory, with named bounds: wall time, CPU time, address space, file size (which also caps
what it can print) and captured output. Network access is refused twice over: the process runs
in a network namespace of its own where Linux lets us make one (``unshare -rn``: no interface
but a down loopback), and an audit hook installed before the answer runs refuses sockets,
subprocesses, ``os.system``, ``exec*`` and ``fork`` in any case. It is a guard against
accidents and simple escapes, not a jail for hostile code: run untrusted suites in a container.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ciyuan.quality.scorers import Score, register

__all__ = ["CPU_S", "MEMORY_BYTES", "OUTPUT_BYTES", "WALL_S", "CodeTests", "SandboxResult",
           "run_python"]

#: Wall-clock bound of one run.
WALL_S = 10.0
#: CPU seconds of one run (SIGXCPU, then SIGKILL).
CPU_S = 5
#: Address space of one run.
MEMORY_BYTES = 512 * 1024 * 1024
#: Largest file the run may write (stdout and stderr go to files, so this bounds output too).
OUTPUT_BYTES = 1024 * 1024
#: What of stdout/stderr is kept in the result.
KEPT_BYTES = 4096

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)
_BOOT = r"""
import sys
_REFUSED = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.fork",
            "os.spawn", "pty.spawn", "ctypes.")
def _guard(event, args):
    if event.startswith(_REFUSED):
        raise PermissionError(f"sandbox: {event} is not allowed")
sys.addaudithook(_guard)
namespace = {"__name__": "__main__"}
exec(compile(open("solution.py", encoding="utf-8").read(), "solution.py", "exec"), namespace)
exec(compile(open("tests.py", encoding="utf-8").read(), "tests.py", "exec"), namespace)
"""


@dataclass(frozen=True)
class SandboxResult:
    passed: bool
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    seconds: float


@functools.cache
def _netns_prefix() -> tuple[str, ...]:
    """``unshare -rn`` when this machine lets us make a network namespace, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and sys.platform.startswith("linux"):
        probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10,
                               check=False)
        if probe.returncode == 0:
            return (unshare, "-rn")
    return ()


def _limits() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_BYTES, OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()  # its own process group: a timeout kills everything it started


def _tail(path: Path) -> str:
    data = path.read_bytes() if path.exists() else b""
    return data[-KEPT_BYTES:].decode("utf-8", "replace")


def run_python(solution: str, tests: str, *, wall_s: float = WALL_S) -> SandboxResult:
    """Run ``solution`` then ``tests`` in the sandbox; passed when the run exits 0."""
    with tempfile.TemporaryDirectory(prefix="ciyuan-sandbox-") as folder:
        work = Path(folder)
        (work / "solution.py").write_text(solution, "utf-8")
        (work / "tests.py").write_text(tests, "utf-8")
        out, err = work / "stdout", work / "stderr"
        command = [*_netns_prefix(), sys.executable, "-I", "-c", _BOOT]
        started = time.monotonic()
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(command, cwd=work, stdin=subprocess.DEVNULL, stdout=stdout,
                                    stderr=stderr, env={"PATH": "/usr/bin:/bin"},
                                    preexec_fn=_limits)  # noqa: PLW1509 - limits need it
            timed_out = False
            try:
                proc.wait(wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, 9)
                proc.wait()
        return SandboxResult(proc.returncode == 0 and not timed_out, proc.returncode,
                             timed_out, _tail(out), _tail(err), time.monotonic() - started)


def _code_of(answer: str) -> str:
    fenced = _FENCE.findall(answer)
    return "\n\n".join(fenced) if fenced else answer


@register("code")
@dataclass(frozen=True)
class CodeTests:
    """1 when the answer's code passes the reference tests in the sandbox."""

    wall_s: float = WALL_S
    name: str = "code"

    def score(self, answer: str, reference: Any) -> Score:
        result = run_python(_code_of(answer), str(reference), wall_s=self.wall_s)
        if result.timed_out:
            detail = f"killed after {self.wall_s:g} s"
        elif result.passed:
            detail = "tests passed"
        else:
            lines = result.stderr.strip().splitlines()
            detail = lines[-1][:300] if lines else f"exit status {result.returncode}"
        return Score(self.name, 1.0 if result.passed else 0.0, result.passed, detail)
