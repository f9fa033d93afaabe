"""Building blocks of the reconciliation tests: records, sim-provider logs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage

T0 = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
#: gpt-4o list price of 1,000 input + 100 output tokens: $0.0025 + $0.001
COST_1000_100 = 3_500_000


def record(n: int | str, at: dt.datetime = T0, *, model: str = "gpt-4o",
           provider: str = "openai", input_tokens: int = 1000, output_tokens: int = 100,
           cached: int = 0, cost_nano: int = COST_1000_100, status: str = "completed",
           upstream_id: str = "", reservation_id: str = "", tenant: str = "acme") -> UsageRecord:
    done = status != "pending"
    return UsageRecord(
        id=f"call-{n}", tenant=tenant, model=model, provider=provider,
        endpoint="chat.completions", started_at=at, status=status,
        completed_at=at if done else None,
        usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens,
                    cached_input_tokens=cached) if done else None,
        currency="USD", upstream_cost_nano=cost_nano if done else 0,
        upstream_request_id=upstream_id, reservation_id=reservation_id)


def sim_log(path: Path, rows: Iterable[tuple[str, dt.datetime, str, int, int, int]]) -> Path:
    """A sim-provider usage log: (request id, time, model, input, cached, output) per line."""
    lines = []
    for request_id, at, model, input_tokens, cached, output in rows:
        lines.append(json.dumps({
            "v": 1, "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "unix_ms": int(at.timestamp()) * 1000, "request_id": request_id,
            "response_id": "chatcmpl-" + request_id, "endpoint": "/v1/chat/completions",
            "api_style": "openai", "model": model, "stream": False, "status": 200,
            "fault": None, "complete": True, "finish_reason": "stop",
            "usage": {"input_tokens": input_tokens, "input_cached_tokens": cached,
                      "input_cache_write_tokens": 0, "output_tokens": output,
                      "output_reasoning_tokens": 0},
            "usage_sent": True, "latency_ms": 12.5, "body_sha256": "0" * 64}))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path
