"""``ciyuan eval run`` and ``ciyuan quality``: evaluate models through the gateway, and read
the quality index off the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.quality.builtin import DATA
from ciyuan.quality.index import Result, quality_index
from ciyuan.quality.runner import DEFAULT_JUDGE_TASKS, EvalOptions, read_results, run_eval
from ciyuan.quality.suites import TASK_CLASSES, load_suite

__all__ = ["eval_group", "quality_command"]


def _suite_path(suite: str) -> Path:
    return DATA / "builtin.jsonl" if suite == "builtin" else Path(suite)


@click.group("eval")
def eval_group() -> None:
    """Evaluate models on a suite, through the gateway (results in ciyuan quality)."""


@eval_group.command("run")
@click.option("--suite", default="builtin", show_default=True,
              help="`builtin` or the path of a suite file (JSONL).")
@click.option("--model", "-m", "models", multiple=True, required=True,
              help="Model to evaluate (repeatable).")
@click.option("--gateway", default="http://127.0.0.1:8000", show_default=True,
              help="The ciyuan gateway the calls go through (metered as purpose evaluation).")
@click.option("--key", envvar="CIYUAN_KEY", required=True,
              help="A ciyuan API key (env CIYUAN_KEY); its tenant pays for the calls.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Calls in flight at once.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval-results"), show_default=True, help="Results directory.")
@click.option("--judge", default=None, metavar="MODEL",
              help="Judge model that grades `judge` items and the --judge-task classes "
                   "(through the gateway, metered as evaluation). Without it `judge` items "
                   "are not scorable and are left out.")
@click.option("--judge-task", "judge_tasks", multiple=True, type=click.Choice(TASK_CLASSES),
              help="Task class the judge grades instead of its own scorer (repeatable; "
                   f"default {', '.join(DEFAULT_JUDGE_TASKS)}).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@pass_app
@handle_errors
def run_command(app: App, suite: str, models: tuple[str, ...], gateway: str, key: str,
                concurrency: int, out: Path, judge: str | None, judge_tasks: tuple[str, ...],
                as_json: bool) -> None:
    """Run every item of a suite against each model and score it; an interrupted run started
    again skips what is already scored.

    \b
    Examples:
      ciyuan eval run --model gpt-4o --model qwen-plus --key cy-...
      ciyuan eval run --suite my-suite.jsonl --model deepseek-chat --concurrency 8 --json
      ciyuan eval run --model qwen-plus --judge gpt-4o --judge-task summarization
    """
    loaded = load_suite(_suite_path(suite))
    summaries = []
    for model in models:
        options = EvalOptions(model, gateway.rstrip("/") + "/v1", key, out, concurrency,
                              judge=judge, judge_tasks=judge_tasks or DEFAULT_JUDGE_TASKS)
        columns = (TextColumn(f"{model:<16.16}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=app.err, transient=True) as bar:
            task = bar.add_task(model, total=None)

            def progress(done: int, total: int, task: Any = task, bar: Any = bar) -> None:
                bar.update(task, completed=done, total=total)

            summary = run_eval(loaded, options, progress)
        summaries.append({"model": model, "results": str(summary.path),
                          "scored": summary.scored, "skipped": summary.skipped,
                          "failed_calls": summary.failed_calls,
                          "scorer_errors": summary.scorer_errors,
                          "not_scorable": summary.not_scorable, "judge": judge})
    if as_json:
        emit_json({"suite": loaded.name, "version": loaded.version, "runs": summaries})
        return
    for s in summaries:
        app.console.print(f"{s['model']}: {s['scored']} scored, {s['skipped']} already done, "
                          f"{s['failed_calls']} failed calls, {s['scorer_errors']} scorer "
                          f"errors, {s['not_scorable']} not scorable (no --judge) → "
                          f"{s['results']}")


def _costs(app: App, rows: list[dict[str, Any]]) -> dict[str, int]:
    """charge_nano of each usage record the results name, from the usage store."""
    from ciyuan.store.usage import open_usage_store

    ids = [r["usage_record"] for r in rows if r.get("usage_record")]
    if not ids:
        return {}
    try:
        store = open_usage_store(app.settings.db_url)
    except Exception:  # noqa: BLE001 - no store here: costs are shown as n/a
        return {}
    try:
        return {i: r.charge_nano for i, r in store.get(ids).items()}
    finally:
        store.close()


@click.command("quality")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval-results"), show_default=True,
              help="The results directory of ciyuan eval run.")
@click.option("--model", "-m", "models", multiple=True, help="Only these models.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@handle_errors
def quality_command(app: App, results: Path, models: tuple[str, ...], as_json: bool) -> None:
    """The quality index of the evaluated models: accuracy per task class and overall with
    95 % bootstrap intervals, scorer errors, and cost of pass (from the metered calls)."""
    rows = [r for r in read_results(results) if not models or r["model"] in models]
    costs = _costs(app, rows)
    index = quality_index(Result(r["model"], r["task"], r["item"], float(r["value"]),
                                 bool(r["passed"]), bool(r.get("error")),
                                 costs.get(r.get("usage_record", ""), 0), int(r.get("tokens", 0)))
                          for r in rows)
    data = {m: {"overall": vars(q.overall), "by_task": {t: vars(e) for t, e in q.by_task.items()},
                "errors": q.errors, "cost_of_pass_nano": q.cost_of_pass_nano,
                "tokens_per_pass": q.tokens_per_pass} for m, q in index.items()}
    if as_json:
        emit_json(data)
        return
    if not data:
        click.echo(f"no results in {results}: run `ciyuan eval run` first", err=True)
        return
    tasks = sorted({t for q in index.values() for t in q.by_task})
    table = Table(title="Quality index (accuracy, 95 % bootstrap interval)")
    table.add_column("model")
    table.add_column("overall", justify="right")
    for task in tasks:
        table.add_column(task, justify="right")
    table.add_column("errors", justify="right")
    for model, q in index.items():
        o = q.overall
        table.add_row(model, f"{o.mean:.3f} [{o.low:.3f}, {o.high:.3f}]",
                      *(f"{q.by_task[t].mean:.2f}" if t in q.by_task else "n/a" for t in tasks),
                      str(q.errors))
    app.console.print(table)
