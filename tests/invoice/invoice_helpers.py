"""Building blocks of the invoice tests: usage records and a clock."""

from __future__ import annotations

import datetime as dt

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage

JAN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
#: Past January's end plus the default three days of grace.
AFTER_GRACE = dt.datetime(2026, 2, 4, 0, 0, 1, tzinfo=dt.UTC)


def record(n: int | str, at: dt.datetime = JAN, *, tenant: str = "acme", model: str = "gpt-4o",
           provider: str = "openai", input_tokens: int = 1000, output_tokens: int = 0,
           cached: int = 0, cost_nano: int = 0, status: str = "completed",
           upstream_id: str = "", reservation_id: str = "") -> UsageRecord:
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens,
                  cached_input_tokens=cached)
    done = status in ("completed", "reconciled")
    return UsageRecord(
        id=f"call-{n}", tenant=tenant, model=model, provider=provider,
        endpoint="chat.completions", started_at=at, status=status,
        completed_at=at if done else None, usage=usage if done else None,
        usage_method="reported" if done else "", currency="USD",
        upstream_cost_nano=cost_nano if done else 0, upstream_request_id=upstream_id,
        reservation_id=reservation_id)
