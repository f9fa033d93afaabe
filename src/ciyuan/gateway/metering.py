"""The metered call: one readable pipeline from request to settled, receipted record.

    authenticate → attribute → route → count input → rate limit → price the maximum
    → reserve at every budget level → write-ahead record → (upstream call: the adapters)
    → measure → rate → settle (post actual, release the rest) → receipt → complete record

``prepare`` runs everything up to the upstream call; ``finish`` everything after it. Both
are synchronous and short; the adapters (``app``, ``streaming``) do the HTTP, and await
``durable`` after each before acting on what it wrote: forwarding the call (the reservation
and write-ahead record must survive a crash first) and answering the client (the
settlement, receipt and completed record). On SQLite that is the group commit of
``ciyuan.store.group_sync``; stores whose commits are durable by themselves need nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol

from ciyuan.core.errors import InputError
from ciyuan.core.money import to_nano_units
from ciyuan.core.records import PURPOSES, Purpose, UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.gateway.errors import GatewayError
from ciyuan.gateway.limits import DEFAULT_MAX_OUTPUT_TOKENS
from ciyuan.gateway.metrics import GatewayMetrics
from ciyuan.gateway.ports import Budgets, Identity, Principal, ReceiptIssuer, Reservation
from ciyuan.gateway.ratelimit import RateLimiter
from ciyuan.gateway.requests import Endpoint, InputCount, count_input, max_output_tokens
from ciyuan.gateway.routing import Router
from ciyuan.gateway.upstream import Route
from ciyuan.identity.errors import InvalidApiKeyError, ModelNotAllowedError
from ciyuan.measure.measurer import Measurer
from ciyuan.price.api import Pricer
from ciyuan.price.lines import Rating
from ciyuan.store.usage import UsageStore

__all__ = ["CallInProgressError", "CompletedCalls", "Gateway", "MeteredCall", "nano"]


class CallInProgressError(GatewayError):
    code = "idempotent-request-in-progress"
    summary = ("A request with this Idempotency-Key is in flight or already completed; it is "
               "not forwarded or billed again.")
    status = 409
    openai_type = "invalid_request_error"


def nano(amount: Decimal) -> int:
    """A money amount in nano-units of its currency, half-up (the ledger's scale)."""
    return to_nano_units(amount, "half-up")


async def _already_durable() -> None:
    """Stores that commit durably need no further wait."""


@dataclass
class MeteredCall:
    """State of one call between ``prepare`` and ``finish``."""

    endpoint: Endpoint
    principal: Principal
    model: str
    routes: list[Route]
    body: dict[str, Any]
    input: InputCount
    max_output: int
    record: UsageRecord
    reservation: Reservation | None
    started: float
    stream: bool
    client_wants_usage: bool
    upstream_seconds: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


class CompletedCalls(Protocol):
    """Told of every completed call after it is settled (e.g. live judging); must return at
    once: it runs on the request path. A streamed call is offered with its delivered text in
    the shape of a plain response, if ``keeps_text`` said so when the stream began."""

    def offer(self, record: UsageRecord, body: Mapping[str, Any],
              response: Mapping[str, Any]) -> None: ...

    def keeps_text(self, record: UsageRecord) -> bool:
        """Whether the relay should keep a streamed call's text to offer it afterwards."""
        ...


@dataclass
class Gateway:
    """The services one gateway process runs with (built once by ``server``)."""

    measurer: Measurer
    pricer: Pricer
    router: Router
    identity: Identity
    budgets: Budgets
    usage: UsageStore
    receipts: ReceiptIssuer | None
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    completed: CompletedCalls | None = None  # live judging (ciyuan.gateway.judging)
    #: returns once everything written so far is on disk (see the module's docstring)
    durable: Callable[[], Awaitable[None]] = _already_durable

    # -- before the upstream call ---------------------------------------------------------
    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        presented = headers.get("authorization", "")
        key = presented[7:].strip() if presented.lower().startswith("bearer ") else ""
        key = key or headers.get("x-api-key", "").strip()
        if not key:
            raise InvalidApiKeyError("no API key: send `Authorization: Bearer cy-…` (create "
                                      "one with `ciyuan keys create --tenant NAME`)")
        principal = self.identity.authenticate(key)
        if principal is None:
            raise InvalidApiKeyError("invalid or revoked API key: check the key, or create "
                                      "a new one with `ciyuan keys create`")
        return principal

    async def prepare(self, endpoint: Endpoint, headers: Mapping[str, str],
                      body: dict[str, Any], started: float) -> MeteredCall:
        principal = _attribute(self.authenticate(headers), headers)
        model = str(body["model"])
        routes = self.router.routes(model)
        if principal.allowed_models and model not in principal.allowed_models:
            raise ModelNotAllowedError(f"key {principal.key_id} may not use {model!r}: "
                                       f"allowed are {', '.join(sorted(principal.allowed_models))}")
        catalog_model = routes[0].catalog_model
        counted = count_input(self.measurer, endpoint, body, catalog_model)
        catalog = self.measurer.catalog
        info = self.measurer.model(catalog_model) if catalog_model in catalog else None
        max_out = 0 if endpoint.embeds else max_output_tokens(
            body, info.max_output if info else 0, DEFAULT_MAX_OUTPUT_TOKENS)
        self.limiter.check(principal.key_id, principal.rpm, principal.tpm,
                           counted.native_tokens + max_out)
        at = self.now()
        worst = Usage(input_tokens=counted.native_tokens, output_tokens=max_out)
        ceiling = nano(self.pricer.rate(worst, model=catalog_model, at=at,
                                        currency=principal.currency, convert=True).total)
        record_id = _record_id(principal, headers)
        idempotency_key = headers.get("idempotency-key", "")
        if idempotency_key.strip():  # a retry is answered before it reserves anything
            seen = self.usage.get([record_id]).get(record_id)
            if seen is not None:
                raise _in_progress(idempotency_key, seen)
        reservation = await self.budgets.reserve(principal, f"rsv-{record_id}", ceiling,
                                                 principal.currency)
        record = UsageRecord(
            id=record_id, tenant=principal.tenant, model=model, provider=routes[0].upstream.name,
            endpoint=endpoint.name, started_at=at, key_id=principal.key_id, team=principal.team,
            agent=principal.agent, task=headers.get("x-ciyuan-task", "")[:200],
            purpose=_purpose(headers), region=principal.region,
            stream=bool(body.get("stream")), idempotency_key=idempotency_key,
            request_sha256=headers.get("x-ciyuan-body-sha256", ""),
            reservation_id=reservation.id, currency=principal.currency)
        stored = self.usage.begin(record)
        # the same id exists: a retry that came in alongside the first, whose hold (its id
        # comes from the record id) is the first call's: nothing to release
        if stored != record:
            raise _in_progress(idempotency_key, stored)
        options = body.get("stream_options")
        return MeteredCall(
            endpoint=endpoint, principal=principal, model=model, routes=routes, body=body,
            input=counted, max_output=max_out, record=record, reservation=reservation,
            started=started, stream=bool(body.get("stream")),
            client_wants_usage=isinstance(options, dict) and bool(options.get("include_usage")))

    # -- after the upstream call ----------------------------------------------------------
    async def finish(self, call: MeteredCall, route: Route, usage: Usage, method: str,
                     standard_output: int, response_sha256: str, upstream_request_id: str = "",
                     error: str = "") -> tuple[UsageRecord, str]:
        """Rate, settle, receipt and complete; returns the record and its receipt."""
        rating, charge, posted = self._rate(call, route, usage)
        if call.reservation is not None:
            await self.budgets.settle(call.reservation, posted)
        return self._complete(call, route, usage, method, standard_output, response_sha256,
                              upstream_request_id, error, rating, charge, posted)

    def finish_now(self, call: MeteredCall, route: Route, usage: Usage, method: str,
                   standard_output: int, response_sha256: str, upstream_request_id: str = "",
                   error: str = "") -> tuple[UsageRecord, str]:
        """:meth:`finish` without waiting for the loop, for a stream cut short: its task may
        be cancelled, and a cancelled task cannot await."""
        rating, charge, posted = self._rate(call, route, usage)
        if call.reservation is not None:
            self.budgets.settle_now(call.reservation, posted)
        return self._complete(call, route, usage, method, standard_output, response_sha256,
                              upstream_request_id, error, rating, charge, posted)

    def _rate(self, call: MeteredCall, route: Route, usage: Usage) -> tuple[Rating, int, int]:
        """The call's rating, its charge and what its settlement posts (never beyond the
        hold)."""
        rating = self.pricer.rate(usage, model=route.catalog_model, at=call.record.started_at,
                                  currency=call.principal.currency, convert=True)
        charge = nano(rating.total)
        posted = charge if call.reservation is None else min(charge,
                                                             call.reservation.amount_nano)
        return rating, charge, posted

    def _complete(self, call: MeteredCall, route: Route, usage: Usage, method: str,
                  standard_output: int, response_sha256: str, upstream_request_id: str,
                  error: str, rating: Rating, charge: int, posted: int
                  ) -> tuple[UsageRecord, str]:
        """After the settlement: the completed record, its receipt, the metrics."""
        metadata = dict(call.extra)
        if posted < charge:
            metadata["unreserved_nano"] = str(charge - posted)
        record = replace(
            call.record, status="completed", completed_at=self.now(), usage=usage,
            usage_method=method, provider=route.upstream.name,
            standard_input_tokens=call.input.standard_tokens,
            standard_output_tokens=standard_output, currency=rating.currency,
            charge_nano=charge, upstream_cost_nano=charge,
            price_book_version=rating.price_book_version, response_sha256=response_sha256,
            upstream_request_id=upstream_request_id, error=error, metadata=metadata)
        receipt = self.receipts.issue(record, response_sha256) if self.receipts else ""
        self.usage.complete(record)
        self._count(record, usage)
        return record, receipt

    def abandon(self, call: MeteredCall, error: str) -> None:
        """Nothing was delivered: release the hold and close the record as failed."""
        if call.reservation is not None:
            self.budgets.release(call.reservation)
        self.usage.complete(replace(call.record, status="failed", completed_at=self.now(),
                                    error=error[:500]))

    def _count(self, record: UsageRecord, usage: Usage) -> None:
        m = self.metrics
        for category, value in (("input", usage.input_tokens),
                                ("cached_input", usage.cached_input_tokens),
                                ("output", usage.output_tokens),
                                ("reasoning", usage.reasoning_tokens)):
            if value:
                m.tokens.labels(record.model, category).inc(value)
        m.standard_tokens.labels(record.model, "input").inc(record.standard_input_tokens)
        m.standard_tokens.labels(record.model, "output").inc(record.standard_output_tokens)
        m.cost.labels(record.model, record.currency).inc(record.charge_nano / 1e9)


def _in_progress(idempotency_key: str, stored: UsageRecord) -> CallInProgressError:
    return CallInProgressError(
        f"a request with Idempotency-Key {idempotency_key!r} is already {stored.status} "
        f"(usage record {stored.id}); it is not billed again", usage_record=stored.id)


def _attribute(principal: Principal, headers: Mapping[str, str]) -> Principal:
    agent = headers.get("x-ciyuan-agent", "").strip()[:200]
    if agent and not principal.agent:
        return replace(principal, agent=agent)
    return principal


def _purpose(headers: Mapping[str, str]) -> Purpose:
    value = headers.get("x-ciyuan-purpose", "").strip().lower() or "undeclared"
    if value not in PURPOSES:
        raise InputError(f"X-Ciyuan-Purpose must be one of {', '.join(PURPOSES)}, got "
                         f"{value!r}", field="x-ciyuan-purpose")
    return value


def _record_id(principal: Principal, headers: Mapping[str, str]) -> str:
    key = headers.get("idempotency-key", "").strip()
    if key:
        digest = hashlib.sha256(f"{principal.tenant}\x00{key}".encode()).hexdigest()[:32]
        return f"ur-{digest}"
    return f"ur-{uuid7_hex()}"


def uuid7_hex() -> str:
    """A UUIDv7 (RFC 9562) as 32 hex digits: the Unix millisecond it was made in, then 74
    random bits. Ids made one after another sort nearly in order, so the B-tree indexes keyed
    on them (the usage record's, its reservation's in the journal and the pendings) grow at
    their right edge, and the pages one commit writes are shared by the calls in it; random
    ids put each call on a leaf page of its own in every such index (measured at 4 calls a
    commit: 30 → 20 WAL frames a commit, and about half the commit's time)."""
    rand = int.from_bytes(os.urandom(10))  # 80 bits, 74 used
    value = ((time.time_ns() // 1_000_000) & _MS_MASK) << 80 | 0x7 << 76 \
        | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | (rand & _LOW_62)
    return f"{value:032x}"


_MS_MASK = (1 << 48) - 1
_LOW_62 = (1 << 62) - 1
