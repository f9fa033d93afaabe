"""``UsageRecord``: one metered call, from its write-ahead entry to its settled charges.

A record is written *before* the upstream call (status ``pending``: who, what, when, the
request's hash and the reservation that holds budget for it) and completed *after* it
(``completed``: measured usage, standard tokens, charges, price-book version, response hash).
A record left ``pending`` by a crash is settled later by reconciliation against the
provider's usage export (``reconciled``) or closed as ``failed`` when the provider served
nothing. The record id is the usage event's identity: storing the same id twice is a no-op,
so a usage event is counted exactly once (SPEC invariant 3).

Money fields are integers in nano-units of ``currency`` (10⁻⁹), like the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ciyuan.core.usage import Usage

__all__ = ["PURPOSES", "RECORD_HEADER", "Purpose", "RecordStatus", "UsageRecord"]

#: The response header that names a call's usage record (receipts, outcome reports and
#: evaluation results refer to the call by it).
RECORD_HEADER = "x-ciyuan-usage-record"

RecordStatus = Literal["pending", "completed", "failed", "reconciled"]
#: Declared (or inferred) use of a call; ``undeclared`` is its own residual in statistics.
Purpose = Literal["productive", "consumptive", "evaluation", "undeclared"]
PURPOSES: tuple[Purpose, ...] = ("productive", "consumptive", "evaluation", "undeclared")


@dataclass(frozen=True)
class UsageRecord:
    """One metered call (immutable; a completion is a new value with the same id)."""

    id: str
    tenant: str
    model: str
    provider: str
    endpoint: str  # "chat.completions" | "completions" | "embeddings" | "messages"
    started_at: dt.datetime
    status: RecordStatus = "pending"
    key_id: str = ""
    team: str = ""
    agent: str = ""
    task: str = ""
    purpose: Purpose = "undeclared"
    region: str = ""
    stream: bool = False
    request_sha256: str = ""
    idempotency_key: str = ""
    reservation_id: str = ""  # the ledger pending transfer that holds budget for this call
    # -- filled on completion -----------------------------------------------------------
    completed_at: dt.datetime | None = None
    usage: Usage | None = None
    usage_method: str = ""  # "reported" | "counted" | "estimated"
    standard_input_tokens: int = 0
    standard_output_tokens: int = 0
    currency: str = ""
    charge_nano: int = 0  # what the consumer is billed
    upstream_cost_nano: int = 0  # what the provider bills us
    price_book_version: str = ""
    response_sha256: str = ""
    upstream_request_id: str = ""
    error: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.started_at.tzinfo is not None, "timestamps are timezone-aware (UTC)"
        assert self.charge_nano >= 0 and self.upstream_cost_nano >= 0
        if self.status in ("completed", "reconciled"):
            assert self.usage is not None and self.completed_at is not None
