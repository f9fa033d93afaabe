"""`ciyuan eval run --judge` through a real gateway and sim-provider: judge items are left out
without a judge, graded by it with one (every row naming the judge and the rubric version,
every judge call metered as evaluation), and a rerun resumes."""

from __future__ import annotations

import json
from pathlib import Path

from ciyuan.quality.builtin import DATA
from sim_gateway import run_cli, sim_gateway, tenant_and_key


def _suite(path: Path) -> Path:
    """30 built-in items re-labelled to be judged, and 10 summarization items as shipped."""
    lines = (DATA / "builtin.jsonl").read_text("utf-8").splitlines()
    items = [json.loads(line) for line in lines[1:]]
    judged = [{**i, "scorer": "judge", "options": {"rubric": "grade-reference"}}
              for i in items if i["task"] in ("qa", "math", "translation")][::5][:30]
    summaries = [i for i in items if i["task"] == "summarization"][:10]
    rows = [{"suite": "judged", "version": "1"}, *judged, *summaries]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    assert len(judged) == 30
    return path


def test_eval_run_with_a_judge(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/eval.db"
    key = tenant_and_key(db, "lab", sector="education")
    suite = str(_suite(tmp_path / "judged.jsonl"))
    out = tmp_path / "results"
    base = ["eval", "run", "--suite", suite, "--model", "gpt-4o-mini", "--key", key,
            "--out", str(out), "--concurrency", "8"]
    with sim_gateway(db, ["--models", "gpt-4o-mini,gpt-4o", "--seed", "5"]) as url:
        (plain,) = run_cli(db, *base, "--gateway", url)["runs"]  # type: ignore[misc]
        assert (plain["scored"], plain["not_scorable"], plain["failed_calls"]) == (10, 30, 0)
        (judged,) = run_cli(db, *base, "--gateway", url, "--judge", "gpt-4o")["runs"]  # type: ignore[misc]
        # the 30 judge items, and the 10 summaries again: a judge now grades their class
        assert (judged["scored"], judged["skipped"], judged["not_scorable"]) == (40, 0, 0)
        assert judged["scorer_errors"] == 0 and judged["failed_calls"] == 0
        (again,) = run_cli(db, *base, "--gateway", url, "--judge", "gpt-4o")["runs"]  # type: ignore[misc]
        assert (again["scored"], again["skipped"]) == (0, 40)
    rows = [json.loads(line) for line in Path(str(judged["results"])).read_text().splitlines()]
    latest = {r["item"]: r for r in rows}
    assert len(latest) == 40
    for row in latest.values():
        assert (row["scorer"], row["judge"], row["rubric"]) == ("judge", "gpt-4o",
                                                                "grade-reference@1")
        assert row["judge_usage_record"].startswith("ur-") and row["value"] in (0.0, 1.0)
        assert row["judge_usage_record"] != row["usage_record"]
    assert 0 < sum(r["passed"] for r in latest.values()) < 40
    usage = run_cli(db, "usage", "--tenant", "lab")
    assert usage["requests"] == 10 + 2 * 40  # answers and judge calls, all metered
