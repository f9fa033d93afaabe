"""`ciyuan eval run` through a real gateway and sim-provider: every item is metered as an
evaluation call, the measured accuracy matches the simulated skill, a rerun resumes, and
`ciyuan quality` reads the index with costs from the usage store."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ciyuan.sim.skill import DEFAULT_SKILLS
from sim_gateway import run_cli, sim_gateway, tenant_and_key


def test_eval_run_resume_and_quality(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/eval.db"
    key = tenant_and_key(db, "lab", sector="education")
    out = tmp_path / "results"
    with sim_gateway(db, ["--models", "gpt-4o-mini", "--seed", "5"]) as url:
        first = run_cli(db, "eval", "run", "--model", "gpt-4o-mini", "--gateway", url, "--key",
                        key, "--concurrency", "8", "--out", str(out))
        (run,) = first["runs"]  # type: ignore[misc]
        assert run["scored"] == 320 and run["failed_calls"] == 0 and run["scorer_errors"] == 0
        results = Path(run["results"])
        lines = results.read_text().splitlines()
        results.write_text("\n".join(lines[:200]) + "\n" + lines[200][:30])  # an interruption
        again = run_cli(db, "eval", "run", "--model", "gpt-4o-mini", "--gateway", url, "--key",
                        key, "--out", str(out))
        (rerun,) = again["runs"]  # type: ignore[misc]
        assert (rerun["skipped"], rerun["scored"]) == (200, 120)
    usage = run_cli(db, "usage", "--tenant", "lab")
    assert usage["requests"] == 320 + 120  # every call metered, the resumed ones too
    index = run_cli(db, "quality", "--results", str(out))
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
