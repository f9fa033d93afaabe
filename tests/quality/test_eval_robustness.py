"""`ciyuan eval run --perturb` through a real gateway and sim-provider: the variants are
metered, linked to their items, and `ciyuan quality` shows the four-dimension profile, whose
measured robustness lies within the 95 % interval around the simulated model's flip rate."""

from __future__ import annotations

import json
import math
from pathlib import Path

from click.testing import CliRunner

from ciyuan.cli.main import cli
from ciyuan.quality.builtin import DATA
from ciyuan.sim.skill import DEFAULT_FLIP_RATES
from sim_gateway import run_cli, sim_gateway, tenant_and_key


def test_perturbed_run_and_profile(tmp_path: Path) -> None:
    lines = (DATA / "builtin.jsonl").read_text("utf-8").splitlines()
    suite = tmp_path / "half.jsonl"  # every other item of the built-in suite, without code
    items = [ln for ln in lines[1::2] if '"task": "code"' not in ln]
    suite.write_text("\n".join([lines[0], *items]) + "\n", "utf-8")
    db = f"sqlite:///{tmp_path}/eval.db"
    key = tenant_and_key(db, "lab", sector="education")
    out = tmp_path / "results"
    with sim_gateway(db, ["--models", "gpt-4o-mini", "--seed", "7"]) as url:
        first = run_cli(db, "eval", "run", "--suite", str(suite), "--model", "gpt-4o-mini",
                        "--gateway", url, "--key", key, "--concurrency", "8", "--out", str(out),
                        "--perturb", "typos,language", "--seeds", "2")
    (run,) = first["runs"]  # type: ignore[misc]
    n = len(items)
    variants_per_item = 2 * 2 + 1  # two kinds × two seeds, and one resample
    assert run["scored"] == n and run["variants"]["scored"] == n * variants_per_item
    assert run["variants"]["failed_calls"] == 0
    usage = run_cli(db, "usage", "--tenant", "lab")
    assert usage["requests"] == n * (1 + variants_per_item)  # every variant metered
    rows = [json.loads(x) for x in Path(run["variants"]["results"]).read_text().splitlines()]
    assert {r["item"].split("~")[0] for r in rows} == {json.loads(x)["id"] for x in items}
    assert all(r["latency_ms"] > 0 for r in rows)
    quality = run_cli(db, "quality", "--results", str(out))["gpt-4o-mini"]
    assert isinstance(quality, dict)
    profile = quality["profile"]
    robustness = profile["robustness"]
    assert robustness["items"] == n and robustness["variants"] == n * variants_per_item
    p = (1 - DEFAULT_FLIP_RATES["gpt-4o-mini"]) ** variants_per_item
    half = 1.96 * math.sqrt(p * (1 - p) / n)
    assert abs(robustness["consistency"]["mean"] - p) <= half
    assert set(robustness["by_kind"]) == {"typos", "language", "resample"}
    efficiency = profile["efficiency"]
    assert efficiency["basis"] == ["cost", "latency"] and efficiency["score"] == 1.0
    assert efficiency["cost_of_pass_nano"]["mean"] > 0 and efficiency["latency_ms"]["mean"] > 0
    assert profile["completeness"] is None and profile["scores"]["completeness"] is None
    assert profile["combined_over"] == ["accuracy", "efficiency", "robustness"]
    assert 0 < profile["combined"] <= 1
    table = CliRunner().invoke(cli, ["--db", db, "quality", "--results", str(out)])
    assert table.exit_code == 0 and "Quality profile" in table.output and "n/a" in table.output
