"""Summaries of ``bench_gateway.py``'s raw rows: medians over rounds, added latency over the
sim called directly in the same round, ratios ciyuan ÷ LiteLLM and ciyuan ÷ nginx, the
issue's targets, a Markdown table, and a cProfile digest."""

from __future__ import annotations

import io
import pstats
import statistics
from pathlib import Path
from typing import Any

__all__ = ["markdown", "profile_report", "summarize"]

#: Issue #5's targets for added latency at 200 req/s and for the rate versus LiteLLM.
TARGET_P50_MS = 1.0
TARGET_P99_MS = 5.0
TARGET_RATE_VS_LITELLM = 10.0
MODES = ("plain", "stream")


def _med(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _added(rows: list[dict[str, Any]], floor: list[dict[str, Any]], key: str) -> float | None:
    pairs = [(r[key], f[key]) for r, f in zip(rows, floor, strict=True)
             if r[key] is not None and f[key] is not None]
    return _med([r - f for r, f in pairs]) if pairs else None


def _closed(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for case, by_name in raw.items():
        direct = by_name["direct"]
        out[case] = {name: {
            "p50_ms": _med([r["p50_ms"] for r in rows]),
            "p99_ms": _med([r["p99_ms"] for r in rows]),
            "added_p50_ms": _added(rows, direct, "p50_ms"),
            "added_p99_ms": _added(rows, direct, "p99_ms"),
            "rps": _med([r["rps"] for r in rows]),
            "cpu_s_per_1000": _med([r["cpu_s_per_1000"] for r in rows]),
        } for name, rows in by_name.items()}
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _mode(results: dict[str, Any], mode: str, closed: dict[str, Any]) -> dict[str, Any]:
    ladder = results["raw"]["ladder"][mode]
    fixed = results["raw"]["fixed"][mode]
    target = results["criteria"]["target_rps"]
    rows: dict[str, Any] = {}
    for name, runs in fixed["rows"].items():
        rate = fixed["rate"][name]
        floor = fixed["direct_at"][str(rate)]
        rows[name] = {
            "sustainable_rps": ladder["sustainable_rps"][name],
            "ladder_topped_out": name in ladder["ladder_topped_out"],
            "latency_rate_rps": rate, "at_target_rate": rate == target,
            "added_p50_ms": _added(runs, floor, "p50_ms"),
            "added_p99_ms": _added(runs, floor, "p99_ms"),
            "cpu_s_per_1000": _med([r["cpu_s_per_1000"] for r in runs]),
            "closed_rps": {c: closed[f"c{c}-{mode}"][name]["rps"] for c in (1, 16, 64)},
            "closed_cpu_s_per_1000_c16": closed[f"c16-{mode}"][name]["cpu_s_per_1000"],
        }
    ratios = {}
    for other in ("litellm", "nginx"):
        if "ciyuan" in rows and other in rows:
            mine, theirs = rows["ciyuan"], rows[other]
            ratios[f"ciyuan/{other}"] = {
                key: _ratio(mine[key], theirs[key])
                for key in ("sustainable_rps", "cpu_s_per_1000", "closed_cpu_s_per_1000_c16",
                            "added_p50_ms", "added_p99_ms")}
    targets = {}
    if "ciyuan" in rows:
        mine = rows["ciyuan"]
        targets = {
            "added_p50_ms_le_1_at_200": mine["at_target_rate"] and mine["added_p50_ms"]
            is not None and mine["added_p50_ms"] <= TARGET_P50_MS,
            "added_p99_ms_le_5_at_200": mine["at_target_rate"] and mine["added_p99_ms"]
            is not None and mine["added_p99_ms"] <= TARGET_P99_MS,
        }
        if "litellm" in rows:
            target_ratio = _ratio(mine["sustainable_rps"], rows["litellm"]["sustainable_rps"])
            targets["sustainable_ge_10x_litellm"] = (target_ratio or 0) >= TARGET_RATE_VS_LITELLM
    return {"contenders": rows, "ratios": ratios, "targets_met": targets}


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Medians and ratios of a run's raw rows (see the module docstring)."""
    closed = _closed(results["raw"]["closed"])
    return {"closed": closed, **{mode: _mode(results, mode, closed) for mode in MODES}}


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def markdown(results: dict[str, Any]) -> str:
    """The headline table, one block per mode."""
    lines = [f"# Gateway benchmark ({results['date']}, {results['machine']}, "
             f"{results['rounds']} rounds{', quick' if results['quick'] else ''})", ""]
    for mode in MODES:
        summary = results["summary"][mode]
        lines += [f"## {mode}", "",
                  "| contender | added p50 / p99 (ms) at rate | sustainable req/s | "
                  "CPU s / 1,000 req (at rate; c16) | closed-loop req/s c1 / c16 / c64 |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for name, row in summary["contenders"].items():
            added = ("floor" if name == "direct" else
                     f"{_ms(row['added_p50_ms'])} / {_ms(row['added_p99_ms'])}")
            top = "≥ " if row["ladder_topped_out"] else ""
            cpu = ("—" if name == "direct" else
                   f"{row['cpu_s_per_1000']:.2f}; {row['closed_cpu_s_per_1000_c16']:.2f}")
            rps = " / ".join(f"{row['closed_rps'][c]:.0f}" for c in (1, 16, 64))
            lines.append(f"| {name} | {added} at {row['latency_rate_rps']}/s | "
                         f"{top}{row['sustainable_rps']} | {cpu} | {rps} |")
        for pair, ratio in summary["ratios"].items():
            lines.append("")
            lines.append(f"{pair}: " + ", ".join(f"{k} {v}" for k, v in ratio.items()))
        lines += ["", "targets met: " + ", ".join(
            f"{k} {'yes' if v else 'NO'}" for k, v in summary["targets_met"].items()), ""]
    return "\n".join(lines)


def profile_report(stats_file: Path, top: int = 25) -> str:
    """The ``top`` functions by own time and by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()
