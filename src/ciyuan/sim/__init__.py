"""The simulated provider (SPEC §4.4): the upstream of the demo, the tests and the benchmarks.

An OpenAI- and Anthropic-compatible model server in its own process (``ciyuan
sim-provider``). Its models count with real tokenizers (``ciyuan.measure``), answer
deterministically (by seed and request content) in the request's language, report usage
exactly as the vendor would (cached prompt prefixes, reasoning tokens, usage in the last
stream chunk only when asked), pace their output, inject faults at a set rate, and log what
they served to an append-only JSONL file that the usage export reads.

In: HTTP requests. Out: responses, the usage log, the usage export (JSON buckets over HTTP,
per-request CSV/JSON from the CLI).

Modules: ``config`` (settings and bounds), ``models``, ``request`` / ``request_anthropic``
(bodies into values), ``engine`` (answers and usage), ``generate`` and ``phrases`` (text),
``tools``, ``cache`` (prompt caching), ``faults``, ``log``, ``export``, ``exchange`` (raw ASGI
plumbing), ``openai_api`` / ``anthropic_api`` (vendor shapes), ``service``, ``app``,
``server`` (uvicorn). docs/how-to/sim-provider.md is the user's guide.
"""

from __future__ import annotations

from ciyuan.sim.app import SimApp, build_app
from ciyuan.sim.config import FAULT_KINDS, SimConfig
from ciyuan.sim.engine import Usage
from ciyuan.sim.export import EXPORT_COLUMNS, export_rows, write_export
from ciyuan.sim.log import read_log
from ciyuan.sim.models import BUILTIN_SIM_MODELS, SimModel
from ciyuan.sim.server import serve

__all__ = [
    "BUILTIN_SIM_MODELS",
    "EXPORT_COLUMNS",
    "FAULT_KINDS",
    "SimApp",
    "SimConfig",
    "SimModel",
    "Usage",
    "build_app",
    "export_rows",
    "read_log",
    "serve",
    "write_export",
]
