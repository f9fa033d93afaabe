"""`ciyuan serve` with `[quality.live_judge]` in ciyuan.toml: a real gateway process judges the
sampled share of real calls with the judge's own key, stores the scores linked to the usage
records in the database, and counts them in /metrics."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx

from ciyuan.quality.builtin import DATA
from ciyuan.quality.live import is_sampled
from ciyuan.store.judge_scores import open_judge_score_store
from sim_gateway import run_cli, sim_gateway, tenant_and_key

#: Polls of /metrics while the background worker finishes (0.1 s apart).
MAX_POLLS = 300


def _judged(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    found = re.search(r'ciyuan_live_judge_total\{outcome="judged"\} (\S+)', text)
    return float(found.group(1)) if found else -1.0


def test_serve_judges_the_configured_share(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/live.db"
    key = tenant_and_key(db, "shop", sector="retail")
    judge_key = tenant_and_key(db, "judge", sector="retail")
    config = tmp_path / "ciyuan.toml"
    config.write_text('[quality.live_judge]\nshare = 0.5\njudge = "gpt-4o"\n')
    prompts = [json.loads(line)["prompt"] for line in
               (DATA / "builtin.jsonl").read_text("utf-8").splitlines()[1:21]]
    with sim_gateway(db, ["--models", "gpt-4o,qwen-plus", "--seed", "3"], config=config,
                     env={**os.environ, "CIYUAN_JUDGE_KEY": judge_key}) as url:
        records = []
        for prompt in prompts:
            response = httpx.post(f"{url}/v1/chat/completions", timeout=30,
                                  headers={"authorization": f"Bearer {key}"},
                                  json={"model": "gpt-4o", "max_tokens": 500,
                                        "messages": [{"role": "user", "content": prompt}]})
            assert response.status_code == 200, response.text
            records.append(response.headers["x-ciyuan-usage-record"])
        expected = sorted(r for r in records if is_sampled(r, 0.5))
        for _ in range(MAX_POLLS):
            if _judged(url) >= len(expected):
                break
            time.sleep(0.1)
        assert _judged(url) == len(expected) > 0
    store = open_judge_score_store(db)
    try:
        scores = store.list("shop")
    finally:
        store.close()
    assert sorted(s.record_id for s in scores) == expected
    assert {(s.judge, s.rubric) for s in scores} == {("gpt-4o", "grade-answer@1")}
    usage = run_cli(db, "usage", "--tenant", "judge")
    assert usage["requests"] == len(expected)  # every judge call metered, on the judge's key
