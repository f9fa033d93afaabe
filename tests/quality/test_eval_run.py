"""`ciyuan eval run` through a real gateway and sim-provider: every item is metered as an
evaluation call, the measured accuracy matches the simulated skill, a rerun resumes, and
`ciyuan quality` reads the index with costs from the usage store."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.gateway.process import GatewayProcess
from ciyuan.sim.process import SimProcess
from ciyuan.sim.skill import DEFAULT_SKILLS


def _cli(db: str, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["--db", db, *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, dict)
    return data


def test_eval_run_resume_and_quality(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/eval.db"
    _cli(db, "tenants", "create", "lab", "--sector", "education")
    key = str(_cli(db, "keys", "create", "--tenant", "lab")["key"])
    sim = SimProcess(["--models", "gpt-4o-mini", "--seed", "5"])
    gateway = GatewayProcess(db, ["--port", "0"])
    out = tmp_path / "results"
    try:
        gateway.args += ["--upstream", f"sim={sim.start()}"]
        url = gateway.start()
        first = _cli(db, "eval", "run", "--model", "gpt-4o-mini", "--gateway", url, "--key",
                     key, "--concurrency", "8", "--out", str(out))
        (run,) = first["runs"]  # type: ignore[misc]
        assert run["scored"] == 320 and run["failed_calls"] == 0 and run["scorer_errors"] == 0
        results = Path(run["results"])
        lines = results.read_text().splitlines()
        results.write_text("\n".join(lines[:200]) + "\n" + lines[200][:30])  # an interruption
        again = _cli(db, "eval", "run", "--model", "gpt-4o-mini", "--gateway", url, "--key",
                     key, "--out", str(out))
        (rerun,) = again["runs"]  # type: ignore[misc]
        assert (rerun["skipped"], rerun["scored"]) == (200, 120)
    finally:
        gateway.stop()
        sim.stop()
    usage = _cli(db, "usage", "--tenant", "lab")
    assert usage["requests"] == 320 + 120  # every call metered, the resumed ones too
    index = _cli(db, "quality", "--results", str(out))
    quality = index["gpt-4o-mini"]
    assert isinstance(quality, dict)
    truth = DEFAULT_SKILLS["gpt-4o-mini"]
    rows = {}
    for line in results.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            assert line == lines[200][:30]  # only the torn line is not JSON
            continue
        rows[row["item"]] = row
    assert len(rows) == 320
    for task, estimate in quality["by_task"].items():
        passed = [r["passed"] for r in rows.values() if r["task"] == task]
        p = truth.get(task, truth["default"])
        half = 1.96 * math.sqrt(p * (1 - p) / len(passed))
        assert abs(sum(passed) / len(passed) - p) <= half, (task, p)  # the simulated skill
        # the index averages score values (partial credit: a JSON answer with some fields
        # right scores their share), so it is at least the pass rate
        assert estimate["mean"] >= sum(passed) / len(passed) - 1e-9
        assert estimate["low"] <= estimate["mean"] <= estimate["high"]
    assert all(v is None or v > 0 for v in quality["cost_of_pass_nano"].values())
    assert quality["errors"] == 0
