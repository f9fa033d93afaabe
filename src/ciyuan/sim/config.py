"""The simulated provider's settings and every bound it keeps, each with its reason."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from ciyuan.sim.errors import SimConfigError

__all__ = [
    "ANSWER_TOKENS_MAX",
    "ANSWER_TOKENS_MIN",
    "CACHE_MIN_PREFIX_TOKENS",
    "CACHE_STEP_TOKENS",
    "DEFAULT_EMBEDDING_DIMS",
    "EXPORT_PAGE_ROWS",
    "FAULT_KINDS",
    "FAULT_MEMORY_ENTRIES",
    "LEGACY_COMPLETION_MAX_TOKENS",
    "LOG_FSYNC_BATCH",
    "LOG_FSYNC_INTERVAL_S",
    "MAX_BODY_BYTES",
    "MAX_EMBEDDING_DIMS",
    "MAX_EMBEDDING_INPUTS",
    "MAX_TOKENS_LIMIT",
    "PREFIX_CACHE_ENTRIES",
    "PREFIX_CHECKPOINT_CHARS",
    "REASONING_TOKENS_MAX",
    "REASONING_TOKENS_MIN",
    "RETRY_AFTER_S",
    "FaultKind",
    "SimConfig",
]

#: Largest request body read. A 128k-token prompt is about 0.5 MB of text; 8 MiB leaves room
#: for long contexts and inline images while keeping one request's parse and count under ~1 s.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Largest ``max_tokens`` accepted: the biggest output window of any catalog model (Claude
#: and o-series go to ~128k); more is a client bug, answered 400 as the vendors do.
MAX_TOKENS_LIMIT = 131_072
#: Visible answers are drawn between these lengths (tokens) when ``max_tokens`` allows:
#: typical chat answers, long enough to exercise streaming, short enough for benchmarks.
ANSWER_TOKENS_MIN = 16
ANSWER_TOKENS_MAX = 320
#: Hidden reasoning of reasoning models at medium effort (low halves, high doubles it).
REASONING_TOKENS_MIN = 64
REASONING_TOKENS_MAX = 512
#: The legacy ``/v1/completions`` default for ``max_tokens``, as OpenAI documents it.
LEGACY_COMPLETION_MAX_TOKENS = 16
#: OpenAI caches prompts of at least 1024 tokens and reports hits in 128-token steps.
CACHE_MIN_PREFIX_TOKENS = 1024
CACHE_STEP_TOKENS = 128
#: Prompt prefixes are remembered at every this many characters of the rendered prompt
#: (about 64–256 tokens: the same grain as OpenAI's 128-token steps).
PREFIX_CHECKPOINT_CHARS = 512
#: Prefix hashes remembered (LRU). 32-byte keys: ~10 MB at most, enough for thousands of
#: distinct long prompts; older prefixes fall out, as a real cache's entries expire.
PREFIX_CACHE_ENTRIES = 65_536
#: Distinct request bodies whose repeat count is remembered for fault draws (LRU): a retry of
#: the same body draws anew, so a fault rate below 1 lets retries through.
FAULT_MEMORY_ENTRIES = 65_536
#: ``retry-after`` seconds sent with injected 429s: short, so clients' retries stay fast.
RETRY_AFTER_S = 1
#: The usage log is fsync'd after at most this many records or this many seconds, whichever
#: comes first (and at shutdown): a bounded window of records that a power loss could lose.
LOG_FSYNC_BATCH = 256
LOG_FSYNC_INTERVAL_S = 0.2
#: Rows in one page of the HTTP usage export (the CLI export streams the whole log).
EXPORT_PAGE_ROWS = 10_000
#: Embedding bounds: OpenAI's own (2048 inputs per call; 3072 dimensions for the large model).
MAX_EMBEDDING_INPUTS = 2048
MAX_EMBEDDING_DIMS = 3072
DEFAULT_EMBEDDING_DIMS = 1536

FaultKind = Literal["429", "500", "disconnect"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


@dataclass(frozen=True)
class SimConfig:
    """How one sim-provider behaves; built once from the command line and passed along."""

    seed: int = 0
    ttft_ms: float = 0.0
    tokens_per_s: float = 0.0  # 0 = unlimited
    fault_rate: float = 0.0
    faults: tuple[FaultKind, ...] = FAULT_KINDS
    models: tuple[str, ...] = ()  # empty = the built-in sim models
    log_path: Path | None = None
    answer_tokens: tuple[int, int] = (ANSWER_TOKENS_MIN, ANSWER_TOKENS_MAX)
    #: accuracy per model and task class on evaluation items (ciyuan.sim.skill)
    skills: Mapping[str, Mapping[str, float]] | None = None
    answer_key: Path | None = None  # None = the built-in suite's key

    def __post_init__(self) -> None:
        _check_number("--ttft-ms", self.ttft_ms, 0, 600_000)
        _check_number("--tokens-per-s", self.tokens_per_s, 0, 10_000_000)
        _check_number("--fault-rate", self.fault_rate, 0, 1)
        unknown = [f for f in self.faults if f not in FAULT_KINDS]
        if unknown or not self.faults:
            raise SimConfigError(
                f"--faults {','.join(self.faults) or '(empty)'}: use a comma list of "
                f"{', '.join(FAULT_KINDS)}",
                option="--faults",
            )
        low, high = self.answer_tokens
        if not 1 <= low <= high <= MAX_TOKENS_LIMIT:
            raise SimConfigError(
                f"--answer-tokens {low}-{high}: give MIN-MAX with 1 <= MIN <= MAX <= "
                f"{MAX_TOKENS_LIMIT}",
                option="--answer-tokens",
            )


def _check_number(option: str, value: float, low: float, high: float) -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise SimConfigError(f"{option} {value}: give a number from {low} to {high}",
                             option=option)
