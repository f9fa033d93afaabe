"""What ``ciyuan quality`` shows: the accuracy index and the four-dimension profile, built
from the results files (and the usage store for costs), as JSON data or rich tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ciyuan.quality.index import (
    Estimate,
    ModelQuality,
    Profile,
    quality_index,
    quality_profile,
)
from ciyuan.quality.robustness import read_variants, robustness
from ciyuan.quality.runner import read_results, result_of

__all__ = ["QualityView", "build_view", "print_view", "view_data"]

QualityView = tuple[dict[str, ModelQuality], dict[str, Profile], dict[str, Any]]


def build_view(folder: Path, models: tuple[str, ...],
               costs_of: Callable[[list[dict[str, Any]]], dict[str, int]]) -> QualityView:
    """The index, the profiles and the robustness detail of the models in ``folder``.
    Efficiency is normalised over every model there, also when ``models`` picks some."""
    rows = read_results(folder)
    costs = costs_of(rows)
    results = [result_of(r, costs.get(r.get("usage_record", ""), 0)) for r in rows]
    robust = robustness(rows, read_variants(folder))
    profiles = quality_profile(results, {m: (r.consistent, r.accuracy_drop)
                                         for m, r in robust.items()})
    index = quality_index(r for r in results if not models or r.model in models)
    detail = {m: {"items": r.items, "variants": r.variants, "agreement": r.agreement,
                  "by_kind": {k: {"agreement": a, "accuracy_drop": d}
                              for k, (a, d) in r.by_kind.items()}}
              for m, r in robust.items()}
    return (index, {m: p for m, p in profiles.items() if not models or m in models}, detail)


def _estimate(e: Estimate | None) -> dict[str, Any] | None:
    return vars(e) if e is not None else None


def _profile(p: Profile, detail: Mapping[str, Any] | None) -> dict[str, Any]:
    e = p.efficiency
    return {"accuracy": vars(p.accuracy), "completeness": _estimate(p.completeness),
            "efficiency": {"score": e.score, "basis": list(e.basis),
                           "cost_of_pass_nano": _estimate(e.cost_of_pass_nano),
                           "tokens_per_pass": _estimate(e.tokens_per_pass),
                           "latency_ms": _estimate(e.latency_ms),
                           "latency_ms_p95": e.latency_ms_p95},
            "robustness": None if p.robustness is None else {
                "consistency": vars(p.robustness), "accuracy_drop": p.accuracy_drop,
                **(detail or {})},
            "scores": p.scores(), "combined": p.combined, "combined_over": list(p.combined_over)}


def view_data(view: QualityView) -> dict[str, Any]:
    """The JSON of ``ciyuan quality``: per model the index and its ``profile``."""
    index, profiles, detail = view
    return {m: {"overall": vars(q.overall), "by_task": {t: vars(e) for t, e in q.by_task.items()},
                "errors": q.errors, "cost_of_pass_nano": q.cost_of_pass_nano,
                "tokens_per_pass": q.tokens_per_pass,
                "profile": _profile(profiles[m], detail.get(m)) if m in profiles else None}
            for m, q in index.items()}


def _cell(e: Estimate | None, digits: int = 3) -> str:
    return "n/a" if e is None else f"{e.mean:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_view(console: Console, view: QualityView) -> None:
    index, profiles, _ = view
    tasks = sorted({t for q in index.values() for t in q.by_task})
    table = Table(title="Quality index (accuracy, 95 % bootstrap interval)")
    for name in ("model", "overall", *tasks, "errors"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for model, q in index.items():
        table.add_row(model, _cell(q.overall),
                      *(f"{q.by_task[t].mean:.2f}" if t in q.by_task else "n/a" for t in tasks),
                      str(q.errors))
    console.print(table)
    profile = Table(title="Quality profile (scores in [0, 1]; combined: weighted geometric "
                          "mean of the dimensions with data)")
    for name in ("model", "accuracy", "completeness", "efficiency", "robustness",
                 "cost of pass (nano)", "latency ms", "combined"):
        profile.add_column(name, justify="left" if name == "model" else "right")
    for model, p in profiles.items():
        e = p.efficiency
        cost = "n/a" if e.cost_of_pass_nano is None else f"{round(e.cost_of_pass_nano.mean):,}"
        profile.add_row(model, _score(p.accuracy.mean), _cell(p.completeness),
                        _score(e.score), _cell(p.robustness), cost, _cell(e.latency_ms, 1),
                        _score(p.combined))
    console.print(profile)
