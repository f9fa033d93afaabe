"""`ciyuan demo` end to end with a short run: real sim-provider and gateway processes, the
openai SDK, invoices, reconciliation and the release, whose totals must agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_short_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "ciyuan", "demo", "--out", str(out), "--days", "40",
         "--calls", "60", "--seed", "3", "--eval-items", "14"],
        capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "✗" not in done.stdout
    assert done.stdout.count("✓") == 6
    month = json.loads(next((out / "releases").glob("*/release.json")).read_text())
    assert month["headline"]["requests"]["value"] > 0
    assert len(month["series"]["months"]) == 2  # 40 days reach back into the month before
    assert month["series"]["price_index_tornqvist"][0] == 100.0
    # the demo's price book cuts deepseek-chat when the release month starts
    assert month["headline"]["price_index_tornqvist"]["value"] < 100.0
    usage = subprocess.run(
        [sys.executable, "-m", "ciyuan", "--db", f"sqlite:///{out / 'ciyuan.db'}", "usage",
         "--month", month["month"], "--json"], capture_output=True, text=True, timeout=60,
        check=True)
    assert json.loads(usage.stdout)["requests"] == month["headline"]["requests"]["value"]
    assert (out / "releases" / month["month"] / "index.html").exists()
    # the models were evaluated through the gateway: the release ranks them by quality per $
    perf = month["tables"]["price_performance"]["rows"]
    assert {r[0] for r in perf} == {"gpt-4o", "gpt-4o-mini", "qwen-plus", "deepseek-chat"}
    assert month["headline"]["quality_adjusted_price_index_tornqvist"]["value"] is not None
    # agents reported outcomes through POST /v1/outcomes: the release values the tokens
    value = month["tables"]["value_per_token"]["rows"]
    assert [r[0] for r in value] == ["USD"] and value[0][1] > 0
    assert float(month["headline"]["value_per_million_tokens"]["value"]["USD"]) > 0
    assert "Value per token" in done.stdout


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_stopped_demo_leaves_no_process_behind(tmp_path: Path) -> None:
    import signal
    import time

    demo = subprocess.Popen(
        [sys.executable, "-m", "ciyuan", "demo", "--out", str(tmp_path / "demo"), "--days", "5",
         "--calls", "5000", "--eval-items", "7"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline, children = time.monotonic() + 120, []
        while len(children) < 2 and time.monotonic() < deadline:  # the sim and the gateway
            time.sleep(0.2)
            out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(demo.pid)],
                                 capture_output=True, text=True, check=False).stdout
            children = [int(p) for p in out.split()]
        assert len(children) == 2, "the demo did not start its two servers"
        time.sleep(1)
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
        deadline = time.monotonic() + 30
        alive = children
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [c for c in children if _running(c)]
        assert not alive, f"left behind: {alive}"
    finally:
        if demo.poll() is None:
            demo.kill()
