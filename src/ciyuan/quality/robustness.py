"""Robustness: does a model give the same verdict when an item is asked another way?

``ciyuan eval run --perturb KIND[,KIND] --seeds N`` runs every item's variants
(ciyuan.quality.perturb: kinds × seeds, and the item itself resampled under seeds 1 … N-1)
through the gateway like the items themselves, sending the seed as the request's ``seed``;
their scores go to ``OUT/variants/<suite>-<version>/<model>.jsonl``, each row's item id
``<item>~<kind>.<seed>`` linking it to the original item.

From those rows and the original results, per model:

- **consistency** — the share of items whose pass/fail is the same for the original and
  every variant (items with at least one scored variant; scorer errors left out);
- **agreement** — the share of variants whose pass/fail equals the original's, overall and
  per kind;
- **accuracy drop** — the mean score of the originals minus the mean score of their
  variants (each item's variants averaged first), overall and per kind.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ciyuan.quality.perturb import split_variant_id, variants
from ciyuan.quality.runner import EvalOptions, RunSummary, read_results, run_eval
from ciyuan.quality.suites import Suite

__all__ = ["VARIANTS_DIR", "Robustness", "read_variants", "robustness", "run_variants"]

#: The folder under ``--out`` that holds the variants' results.
VARIANTS_DIR = "variants"


@dataclass(frozen=True)
class Robustness:
    model: str
    items: int  # items with the original and at least one variant scored
    variants: int
    consistency: float
    agreement: float
    accuracy_drop: float
    by_kind: Mapping[str, tuple[float, float]]  # kind -> (agreement, accuracy drop)
    consistent: tuple[bool, ...]  # per item, in item order (for intervals)


def run_variants(suite: Suite, options: EvalOptions, kinds: Sequence[str], seeds: int,
                 progress: Callable[[int, int], None] = lambda done, total: None
                 ) -> list[RunSummary]:
    """Score every variant of every item (resumable like any run), one run per seed."""
    out = options.out / VARIANTS_DIR
    summaries = []
    for seed in range(seeds):
        chosen = [v.item for v in variants(suite.items, kinds, seeds) if v.seed == seed]
        part = Suite(suite.name, suite.version, tuple(chosen), suite.source)
        summaries.append(run_eval(part, replace(options, out=out, seed=seed), progress))
    return summaries


def read_variants(folder: Path) -> list[dict[str, Any]]:
    """The scored variant rows under ``folder`` (the ``--out`` of the runs)."""
    return [row for row in read_results(folder / VARIANTS_DIR)
            if split_variant_id(str(row["item"])) is not None]


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def robustness(originals: Iterable[Mapping[str, Any]],
               variant_rows: Iterable[Mapping[str, Any]]) -> dict[str, Robustness]:
    """Robustness of every model that has both originals and variants scored."""
    base = {(str(r["model"]), str(r["item"])): r for r in originals if not r.get("error")}
    grouped: dict[str, dict[str, list[tuple[str, Mapping[str, Any]]]]] = defaultdict(
        lambda: defaultdict(list))
    for row in variant_rows:
        parts = split_variant_id(str(row["item"]))
        if parts is None or row.get("error") or (str(row["model"]), parts[0]) not in base:
            continue
        grouped[str(row["model"])][parts[0]].append((parts[1], row))
    out = {}
    for model in sorted(grouped):
        items = grouped[model]
        consistent, agree, drops = [], [], []
        kinds: dict[str, list[tuple[bool, float]]] = defaultdict(list)
        for item in sorted(items):
            original = base[(model, item)]
            same = [bool(v["passed"]) == bool(original["passed"]) for _, v in items[item]]
            consistent.append(all(same))
            agree.extend(same)
            drops.append(float(original["value"]) - _mean([float(v["value"])
                                                           for _, v in items[item]]))
            for kind, v in items[item]:
                kinds[kind].append((bool(v["passed"]) == bool(original["passed"]),
                                    float(original["value"]) - float(v["value"])))
        by_kind = {k: (_mean([float(a) for a, _ in pairs]), _mean([d for _, d in pairs]))
                   for k, pairs in sorted(kinds.items())}
        out[model] = Robustness(model, len(consistent), len(agree),
                                _mean([float(c) for c in consistent]),
                                _mean([float(a) for a in agree]), _mean(drops), by_kind,
                                tuple(consistent))
    return out
