"""The built-in suite: current with its generator, loadable, big and varied enough, and every
item's hidden-key answers behave: the correct one passes its scorer, the wrong one fails."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ciyuan.quality import get_scorer, safe_score
from ciyuan.quality.builtin import DATA, generate, prompt_key, write
from ciyuan.quality.suites import load_suite


def test_the_committed_files_are_current(tmp_path: Path) -> None:
    for fresh in write(tmp_path):
        assert fresh.read_bytes() == (DATA / fresh.name).read_bytes(), (
            f"{fresh.name} is stale: run `python -m ciyuan.quality.builtin`")


def test_the_suite_loads_and_is_big_enough() -> None:
    suite = load_suite(DATA / "builtin.jsonl")
    assert suite.name == "builtin" and len(suite.items) >= 300
    tasks = suite.by_task()
    assert len(tasks) >= 6
    assert all({i.language for i in items} == {"en", "zh"} for items in tasks.values())
    key = [json.loads(line) for line in (DATA / "builtin-key.jsonl").read_text().splitlines()]
    assert [k["id"] for k in key] == [i.id for i in suite.items]
    assert all(k["key"] == prompt_key(i.prompt) for k, i in zip(key, suite.items, strict=True))
    assert len({k["key"] for k in key}) == len(key)  # every prompt is its own


def test_correct_answers_pass_and_wrong_ones_fail() -> None:
    entries = list(generate())

    def check(entry: tuple[dict[str, object], str, str]) -> str | None:
        item, good, bad = entry
        scorer = get_scorer(str(item["scorer"]), **dict(item.get("options", {})))  # type: ignore[call-overload]
        right = safe_score(scorer, good, item["reference"])
        wrong = safe_score(scorer, bad, item["reference"])
        if not right.passed or right.error:
            return f"{item['id']}: correct answer fails ({right.detail}{right.error})"
        if wrong.passed:
            return f"{item['id']}: wrong answer passes"
        return None

    with ThreadPoolExecutor(4) as pool:
        problems = [p for p in pool.map(check, entries) if p]
    assert not problems, problems[:10]
