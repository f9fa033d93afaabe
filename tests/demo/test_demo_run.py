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
    assert done.stdout.count("✓") == 5
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
