"""Running a suite against a model through the gateway, resumably.

Every item is one chat call through the ciyuan gateway (so it is authenticated, held against
budgets, metered and billed like any call, with purpose ``evaluation`` and the item id as its
task), scored by the item's scorer, and appended to a results file, one JSON line per item,
as soon as it is scored. A run that is interrupted and started again skips the items already
scored (those whose scorer failed, or whose call failed, are tried again).

Results live in ``OUT/<suite>-<version>/<model>.jsonl``; ``ciyuan quality`` reads them. Each
row carries the call's ``latency_ms`` (request sent to answer parsed, through the gateway).

Items a judge model grades (scorer ``judge``, and with a judge the task classes in
``judge_tasks``) are graded by ``EvalOptions.judge`` through the gateway
(``ciyuan.quality.judge``); their rows carry ``judge``, ``rubric`` and the judge call's
``judge_usage_record``. Without a judge, ``judge`` items are not called at all and are counted
as not scorable; a judged row counts as done only for the judge that gave it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ciyuan.core.records import RECORD_HEADER
from ciyuan.quality.index import Result
from ciyuan.quality.scorers import Score, get_scorer, safe_score
from ciyuan.quality.suites import Item, Suite

__all__ = ["DEFAULT_JUDGE_TASKS", "MAX_CONCURRENCY", "EvalOptions", "RunSummary", "done_items",
           "read_results", "result_of", "results_path", "run_eval"]

#: Calls in flight at most (``--concurrency`` is checked against it).
MAX_CONCURRENCY = 64
#: Output tokens an answer may take.
ANSWER_MAX_TOKENS = 1024
#: Seconds one call may take before it counts as failed (it is tried again on resume).
CALL_TIMEOUT_S = 120.0
#: Task classes a judge grades (instead of their automatic scorer) when one is given: those
#: whose reference is a text answer that token-F1 only approximates.
DEFAULT_JUDGE_TASKS = ("summarization", "translation")


@dataclass(frozen=True)
class EvalOptions:
    model: str
    base_url: str  # the gateway's /v1 base URL
    api_key: str
    out: Path
    concurrency: int = 4
    judge: str | None = None  # the judge model (None: judge items are not scorable)
    judge_tasks: tuple[str, ...] = DEFAULT_JUDGE_TASKS
    seed: int | None = None  # the sampling seed sent with every call (robustness variants)
    embedding_model: Path | None = None  # for the embedding scorers (None: the packaged one)

    def scorer_options(self, item: Item) -> dict[str, Any]:
        """``item.options``, with the configured embedding model for the scorers that embed."""
        from ciyuan.quality.semantic import EMBEDDING_SCORERS

        options = dict(item.options)
        if self.embedding_model is not None and item.scorer in EMBEDDING_SCORERS:
            options.setdefault("model_dir", str(self.embedding_model))
        return options

    def judged_by(self, item: Item) -> str:
        """The judge that grades ``item`` ("" when its own scorer does)."""
        if item.scorer == "judge" or (self.judge and item.task in self.judge_tasks):
            return self.judge or ""
        return ""


@dataclass(frozen=True)
class RunSummary:
    path: Path
    scored: int  # this run
    skipped: int  # already scored by an earlier run
    failed_calls: int
    scorer_errors: int
    not_scorable: int = 0  # judge items left out: no judge was given


def results_path(out: Path, suite: Suite, model: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in model)
    return out / f"{suite.name}-{suite.version}" / f"{safe}.jsonl"


def _scored_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a results file that hold a score (failed calls and torn lines left out)."""
    if not path.exists():
        return
    for line in path.read_text("utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by an interruption
        if isinstance(row, dict) and not row.get("call_error") and "value" in row:
            yield row


def done_items(path: Path, judges: Mapping[str, str] | None = None) -> set[str]:
    """Items a results file holds a score for (not a failed call, not a scorer error); with
    ``judges`` (item id → the judge that grades it, "" for none) only the scores that judge
    gave."""
    return {row["item"] for row in _scored_rows(path) if not row.get("error")
            and (judges is None or row.get("judge", "") == judges.get(row["item"], ""))}


async def _run(suite: Suite, options: EvalOptions, todo: list[Item], path: Path,
               tick: Callable[[str], None]) -> tuple[int, int, int]:
    import openai

    from ciyuan.quality.judge import Judge

    gate = asyncio.Semaphore(options.concurrency)
    counts = {"scored": 0, "calls": 0, "errors": 0}
    client = openai.AsyncOpenAI(base_url=options.base_url, api_key=options.api_key,
                                max_retries=2, timeout=CALL_TIMEOUT_S)
    judges: dict[str, Judge] = {}

    async def judged(item: Item, answer: str, row: dict[str, Any]) -> Score:
        rubric = str(item.options.get("rubric", "grade-reference")) \
            if item.scorer == "judge" else "grade-reference"
        judge = judges.setdefault(rubric, Judge(client, options.judge or "", rubric))
        async with gate:
            result = await judge.grade(item.prompt, answer, item.reference, task=item.id)
        row.update(scorer="judge", judge=result.score.judge, rubric=result.score.rubric,
                   judge_usage_record=result.usage_record)
        return result.score

    async def one(item: Item, sink: Any) -> None:
        row: dict[str, Any] = {"item": item.id, "task": item.task, "language": item.language,
                               "model": options.model, "scorer": item.scorer}
        async with gate:
            try:
                started = time.perf_counter()
                raw = await client.chat.completions.with_raw_response.create(
                    model=options.model, max_tokens=ANSWER_MAX_TOKENS,
                    messages=[{"role": "user", "content": item.prompt}],
                    extra_headers={"x-ciyuan-purpose": "evaluation", "x-ciyuan-task": item.id},
                    extra_body={"seed": options.seed} if options.seed is not None else None)
                response = raw.parse()
                row["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
                answer = response.choices[0].message.content or ""
                row["usage_record"] = raw.headers.get(RECORD_HEADER, "")
                if response.usage is not None:
                    row["tokens"] = response.usage.prompt_tokens + \
                        response.usage.completion_tokens
            except openai.APIError as exc:
                row["call_error"] = f"{type(exc).__name__}: {exc}"[:300]
        if "call_error" not in row and options.judged_by(item):
            try:
                score = await judged(item, answer, row)
            except openai.APIError as exc:
                row["call_error"] = f"judge: {type(exc).__name__}: {exc}"[:300]
        elif "call_error" not in row:
            scorer = get_scorer(item.scorer, **options.scorer_options(item))
            score = await asyncio.to_thread(safe_score, scorer, answer, item.reference)
        if "call_error" in row:
            counts["calls"] += 1
        else:
            row.update(value=score.value, passed=score.passed, detail=score.detail,
                       error=score.error)
            counts["scored"] += 1
            counts["errors"] += bool(score.error)
        sink.write(json.dumps(row, ensure_ascii=False) + "\n")
        sink.flush()  # a kill loses at most the calls in flight
        tick(item.id)

    try:
        with path.open("a", encoding="utf-8") as sink:
            await asyncio.gather(*(one(item, sink) for item in todo))
    finally:
        await client.close()
    return counts["scored"], counts["calls"], counts["errors"]


def run_eval(suite: Suite, options: EvalOptions,
             progress: Callable[[int, int], None] = lambda done, total: None) -> RunSummary:
    """Score every item of ``suite`` not scored yet; results appended to the results file."""
    if not 1 <= options.concurrency <= MAX_CONCURRENCY:
        from ciyuan.quality.errors import QualityError

        raise QualityError(f"--concurrency must be 1..{MAX_CONCURRENCY}", field="concurrency")
    path = results_path(options.out, suite, options.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = done_items(path, {item.id: options.judged_by(item) for item in suite.items})
    if path.exists() and path.stat().st_size:
        with path.open("rb+") as handle:  # a line torn by a kill stays a line of its own
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
    unscorable = [i for i in suite.items if i.scorer == "judge" and not options.judge]
    todo = [i for i in suite.items if i.id not in done and i not in unscorable]
    finished = 0

    def tick(_: str) -> None:
        nonlocal finished
        finished += 1
        progress(finished, len(todo))

    scored, failed, errors = asyncio.run(_run(suite, options, todo, path, tick))
    return RunSummary(path, scored, len(suite.items) - len(todo) - len(unscorable), failed,
                      errors, len(unscorable))


def read_results(folder: Path) -> list[dict[str, Any]]:
    """Every scored result under ``folder`` (the latest score of each model × item; failed
    calls and torn lines left out)."""
    rows = {(row["model"], row["item"]): row
            for path in sorted(folder.glob("*/*.jsonl")) for row in _scored_rows(path)}
    return list(rows.values())


def result_of(row: Mapping[str, Any], cost_nano: int = 0) -> Result:
    """A results-file row as the index reads it (``cost_nano``: the call's, when known)."""
    latency = row.get("latency_ms")
    return Result(row["model"], row["task"], row["item"], float(row["value"]),
                  bool(row["passed"]), bool(row.get("error")), cost_nano,
                  int(row.get("tokens", 0)),
                  float(latency) if isinstance(latency, int | float) else None,
                  str(row.get("scorer", "")))
