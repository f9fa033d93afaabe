"""``ciyuan eval run`` and ``ciyuan quality``: evaluate models through the gateway, and read
the quality index off the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.quality.builtin import DATA
from ciyuan.quality.perturb import KINDS
from ciyuan.quality.robustness import run_variants
from ciyuan.quality.runner import DEFAULT_JUDGE_TASKS, EvalOptions, run_eval
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
@click.option("--perturb", default="", metavar="KIND[,KIND]",
              help=f"Also run perturbed variants of every item for robustness: "
                   f"{', '.join(KINDS)} (comma-separated).")
@click.option("--robustness", is_flag=True, help="Shorthand for --perturb with every kind.")
@click.option("--seeds", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Seeds per perturbation; above 1 each item is also asked again unchanged "
                   "under seeds 1..N-1 (sent as the request's seed).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@pass_app
@handle_errors
def run_command(app: App, suite: str, models: tuple[str, ...], gateway: str, key: str,
                concurrency: int, out: Path, judge: str | None, judge_tasks: tuple[str, ...],
                perturb: str, robustness: bool, seeds: int, as_json: bool) -> None:
    """Run every item of a suite against each model and score it; an interrupted run started
    again skips what is already scored.

    \b
    Examples:
      ciyuan eval run --model gpt-4o --model qwen-plus --key cy-...
      ciyuan eval run --suite my-suite.jsonl --model deepseek-chat --concurrency 8 --json
      ciyuan eval run --model qwen-plus --judge gpt-4o --judge-task summarization
      ciyuan eval run --model gpt-4o --perturb typos,paraphrase --seeds 3
    """
    loaded = load_suite(_suite_path(suite))
    kinds = KINDS if robustness else tuple(k.strip() for k in perturb.split(",") if k.strip())
    summaries = []
    for model in models:
        options = EvalOptions(model, gateway.rstrip("/") + "/v1", key, out, concurrency,
                              judge=judge, judge_tasks=judge_tasks or DEFAULT_JUDGE_TASKS,
                              embedding_model=app.settings.embedding_model)
        columns = (TextColumn(f"{model:<16.16}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=app.err, transient=True) as bar:
            task = bar.add_task(model, total=None)

            def progress(done: int, total: int, task: Any = task, bar: Any = bar) -> None:
                bar.update(task, completed=done, total=total)

            summary = run_eval(loaded, options, progress)
            varied = run_variants(loaded, options, kinds, seeds, progress) if kinds else []
        summaries.append({"model": model, "results": str(summary.path),
                          "scored": summary.scored, "skipped": summary.skipped,
                          "failed_calls": summary.failed_calls,
                          "scorer_errors": summary.scorer_errors,
                          "not_scorable": summary.not_scorable, "judge": judge})
        if varied:
            summaries[-1]["variants"] = {
                "kinds": list(kinds), "seeds": seeds, "results": str(varied[0].path),
                **{k: sum(getattr(v, k) for v in varied)
                   for k in ("scored", "skipped", "failed_calls", "scorer_errors")}}
    if as_json:
        emit_json({"suite": loaded.name, "version": loaded.version, "runs": summaries})
        return
    for s in summaries:
        app.console.print(f"{s['model']}: {s['scored']} scored, {s['skipped']} already done, "
                          f"{s['failed_calls']} failed calls, {s['scorer_errors']} scorer "
                          f"errors, {s['not_scorable']} not scorable (no --judge) → "
                          f"{s['results']}")
        if "variants" in s:
            v: dict[str, Any] = s["variants"]  # type: ignore[assignment]
            app.console.print(f"  variants ({', '.join(v['kinds'])} × {v['seeds']} seeds): "
                              f"{v['scored']} scored, {v['skipped']} already done, "
                              f"{v['failed_calls']} failed calls → {v['results']}")


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
    """The quality of the evaluated models: accuracy per task class and overall with 95 %
    bootstrap intervals, scorer errors, cost of pass (from the metered calls), and the
    four-dimension profile — accuracy, completeness, efficiency, robustness — with their
    combined score (docs/methods/quality-index.md); n/a where a dimension has no data."""
    from ciyuan.cli.quality_view import build_view, print_view, view_data

    view = build_view(results, models, lambda rows: _costs(app, rows))
    data = view_data(view)
    if as_json:
        emit_json(data)
        return
    if not data:
        click.echo(f"no results in {results}: run `ciyuan eval run` first", err=True)
        return
    print_view(app.console, view)
