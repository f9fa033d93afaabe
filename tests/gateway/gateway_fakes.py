"""Small in-memory stand-ins for the gateway's ports, for fast in-process tests."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ciyuan.core.records import UsageRecord
from ciyuan.gateway.errors import BudgetExceededError
from ciyuan.gateway.ports import Principal, Reservation


@dataclass
class FakeIdentity:
    keys: dict[str, Principal] = field(default_factory=dict)

    def authenticate(self, presented_key: str) -> Principal | None:
        return self.keys.get(presented_key)


@dataclass
class MemoryBudgets:
    limit_nano: int | None = None
    held: dict[str, int] = field(default_factory=dict)
    posted_nano: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def reserve(self, principal: Principal, reservation_id: str, amount_nano: int,
                      currency: str) -> Reservation:
        with self.lock:
            used = self.posted_nano + sum(self.held.values())
            if self.limit_nano is not None and used + amount_nano > self.limit_nano:
                raise BudgetExceededError(f"tenant budget {principal.tenant} would be exceeded")
            self.held[reservation_id] = amount_nano
        return Reservation(reservation_id, amount_nano, currency)

    async def settle(self, reservation: Reservation, actual_nano: int) -> None:
        self.settle_now(reservation, actual_nano)

    def settle_now(self, reservation: Reservation, actual_nano: int) -> None:
        with self.lock:
            assert actual_nano <= self.held.pop(reservation.id)
            self.posted_nano += actual_nano

    def release(self, reservation: Reservation) -> None:
        with self.lock:
            self.held.pop(reservation.id, None)


@dataclass
class MemoryUsage:
    records: dict[str, UsageRecord] = field(default_factory=dict)

    def begin(self, record: UsageRecord) -> UsageRecord:
        return self.records.setdefault(record.id, record)

    def complete(self, record: UsageRecord) -> UsageRecord:
        stored = self.records[record.id]
        if stored.status != "pending":
            return stored
        self.records[record.id] = record
        return record

    def get(self, record_ids: Iterable[str]) -> dict[str, UsageRecord]:
        return {i: self.records[i] for i in record_ids if i in self.records}

    def pending(self, started_before: dt.datetime) -> list[UsageRecord]:
        return [r for r in self.records.values()
                if r.status == "pending" and r.started_at < started_before]

    def query(self, start: dt.datetime, end: dt.datetime, tenant: str | None = None,
              statuses: tuple[str, ...] = ("completed", "reconciled")) -> Iterator[UsageRecord]:
        for r in sorted(self.records.values(), key=lambda r: r.started_at):
            if start <= r.started_at < end and r.status in statuses and (
                    tenant is None or r.tenant == tenant):
                yield r

    def close(self) -> None:
        pass
