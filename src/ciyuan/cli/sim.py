"""``ciyuan sim-provider``: run the simulated provider, or export its usage log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ciyuan.cli.context import App, handle_errors, pass_app
from ciyuan.sim.config import FAULT_KINDS, FaultKind, SimConfig
from ciyuan.sim.errors import SimConfigError
from ciyuan.sim.export import write_export
from ciyuan.sim.skill import load_skills

__all__ = ["DEFAULT_PORT", "sim_provider_command"]

#: Port used when ``--port`` is not given (``--port 0`` picks a free one).
DEFAULT_PORT = 8790


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _answer_tokens(raw: str) -> tuple[int, int]:
    low, _, high = raw.partition("-")
    if not (low.isdigit() and (high or low).isdigit()):
        raise SimConfigError(f"--answer-tokens {raw}: give MIN-MAX, e.g. 16-320",
                             option="--answer-tokens")
    return int(low), int(high or low)


def _faults(raw: str) -> tuple[FaultKind, ...]:
    names = _split((raw,))
    kinds = tuple(k for k in FAULT_KINDS if k in names)
    if len(kinds) != len(set(names)) or not kinds:
        raise SimConfigError(f"--faults {raw}: use a comma list of {', '.join(FAULT_KINDS)}",
                             option="--faults")
    return kinds


@click.group("sim-provider", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to bind; 0 picks a free port (the 'listening on' line says which).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of answers and fault draws.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Append a JSONL record of every request served to FILE.")
@click.option("--ttft-ms", type=float, default=0.0, show_default=True,
              help="Time to first token in milliseconds.")
@click.option("--tokens-per-s", type=float, default=0.0, show_default=True,
              help="Output tokens per second per request (0 = unlimited).")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Share of requests (0-1) that meet an injected fault.")
@click.option("--faults", "faults_raw", default=",".join(FAULT_KINDS), show_default=True,
              help="Fault kinds to inject: comma list of 429, 500, disconnect.")
@click.option("--models", "models_raw", multiple=True, metavar="NAMES",
              help="Models to serve (comma list; sim-* or catalog names). Default: all sim-*.")
@click.option("--answer-tokens", "answer_raw", default="16-320", show_default=True,
              help="Length range MIN-MAX of answers, in tokens, when max_tokens allows.")
@click.option("--skills", "skills_path", type=click.Path(exists=True, dir_okay=False,
                                                          path_type=Path),
              help='Accuracy per model and task class on evaluation items, JSON: '
                   '{"gpt-4o": {"math": 0.9, "default": 0.8}} (over built-in defaults).')
@click.option("--answer-key", "answer_key", type=click.Path(exists=True, dir_okay=False,
                                                            path_type=Path),
              help="Hidden answer key of an evaluation suite (JSONL); default: the built-in "
                   "suite's.")
@click.pass_context
@handle_errors
def sim_provider_command(ctx: click.Context, host: str, port: int, seed: int,
                         log_path: Path | None, ttft_ms: float, tokens_per_s: float,
                         fault_rate: float, faults_raw: str, models_raw: tuple[str, ...],
                         answer_raw: str, skills_path: Path | None,
                         answer_key: Path | None) -> None:
    """Run the simulated OpenAI- and Anthropic-compatible provider (the upstream of demos,
    tests and benchmarks). Prints "listening on http://HOST:PORT" once it accepts calls.

    `ciyuan sim-provider export --log FILE` writes the usage export of a log instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ciyuan.sim.server import serve  # uvicorn only when serving

    config = SimConfig(seed=seed, ttft_ms=ttft_ms, tokens_per_s=tokens_per_s,
                       fault_rate=fault_rate, faults=_faults(faults_raw),
                       models=_split(models_raw), log_path=log_path,
                       answer_tokens=_answer_tokens(answer_raw),
                       skills=load_skills(skills_path), answer_key=answer_key)
    app = ctx.find_object(App) or App()
    serve(config, host=host, port=port, measurer=app.measurer)


@sim_provider_command.command("export")
@click.option("--log", "log_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The log a sim-provider wrote with --log.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="Per-request rows as CSV or as a JSON list.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of stdout.")
@pass_app
@handle_errors
def export_command(app: App, log_path: Path, fmt: str, output: Path | None) -> None:
    """Write the usage export of a sim-provider log: one row per billable request
    (timestamp, request id, model, input, cached input, cache-write, output and reasoning
    tokens), in the vocabulary of OpenAI's usage export."""
    if output is None:
        write_export(log_path, fmt, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        count = write_export(log_path, fmt, handle)
    app.err.print(f"{count} rows written to {output}")
