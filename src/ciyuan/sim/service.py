"""What every endpoint shares: the service state, log records, faults and the stream driver."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ciyuan.sim.config import RETRY_AFTER_S, FaultKind, SimConfig
from ciyuan.sim.engine import Reply, Simulator, Usage
from ciyuan.sim.exchange import ClientGone, Exchange, SimulatedDisconnect, SseWriter
from ciyuan.sim.log import LOG_VERSION, UsageLog
from ciyuan.sim.models import SimModel

__all__ = ["Service", "StreamPlan", "pace", "refuse", "respond", "run_stream"]


@dataclass
class Service:
    """The state of one sim-provider process, built once and passed to every handler."""

    config: SimConfig
    models: Mapping[str, SimModel]
    engine: Simulator
    log: UsageLog
    started: int = field(default_factory=lambda: int(dt.datetime.now(dt.UTC).timestamp()))

    def record(self, ex: Exchange, model: str, *, usage: Usage | None, stream: bool,
               status: int = 200, fault: str | None = None, complete: bool = True,
               response_id: str | None = None, usage_sent: bool = False,
               finish: str | None = None) -> None:
        """Append the log record of one served (or refused) request."""
        if self.log.path is None:
            return
        real = dt.datetime.now(dt.UTC)
        now = ex.simulated_at or real  # the instant the usage belongs to
        self.log.append({
            "v": LOG_VERSION,
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "unix_ms": int(now.timestamp() * 1000),
            "request_id": ex.request_id,
            "client_request_id": ex.client_request_id or None,
            "response_id": response_id,
            "endpoint": ex.path,
            "api_style": ex.api,
            "model": model,
            "stream": stream,
            "status": status,
            "fault": fault,
            "complete": complete,
            "finish_reason": finish,
            "usage": (usage or Usage()).as_dict(),
            "usage_sent": usage_sent,
            "latency_ms": round((real.timestamp() - ex.started) * 1000, 3),
            "body_sha256": ex.body_sha256,
        })


async def refuse(service: Service, ex: Exchange, model: str, fault: FaultKind | None,
                 stream: bool) -> bool:
    """Answer an injected 429 or 500 (logged first); False when the call goes on."""
    if fault == "429":
        service.record(ex, model, usage=None, stream=stream, status=429, fault=fault,
                       complete=False)
        kind = "rate_limit_error" if ex.api == "anthropic" else "rate_limit_exceeded"
        await ex.send_error(429, f"Rate limit reached for {model} (simulated); retry after "
                            f"{RETRY_AFTER_S}s", kind, "rate_limit_exceeded",
                            {"retry-after": str(RETRY_AFTER_S),
                             "retry-after-ms": str(RETRY_AFTER_S * 1000)})
        return True
    if fault == "500":
        service.record(ex, model, usage=None, stream=stream, status=500, fault=fault,
                       complete=False)
        kind = "api_error" if ex.api == "anthropic" else "server_error"
        await ex.send_error(500, "The server had an error while processing your request "
                            "(simulated); retry it", kind)
        return True
    return False


async def pace(config: SimConfig, output_tokens: int) -> None:
    """Wait as long as a non-stream answer of ``output_tokens`` takes to generate."""
    delay = config.ttft_ms / 1000
    if config.tokens_per_s > 0:
        delay += output_tokens / config.tokens_per_s
    if delay > 0:
        await asyncio.sleep(delay)


@dataclass(frozen=True)
class StreamPlan:
    """The events of one stream: ``head``, one per answer piece, then ``tail(usage)``."""

    model: SimModel
    response_id: str
    reply: Reply
    head: list[bytes]
    pieces: list[str]
    piece_event: Callable[[str], bytes]
    tail: Callable[[], bytes]
    usage_sent: bool
    prefix: str = ""  # counted with delivered pieces (a tool call's name)


async def run_stream(service: Service, ex: Exchange, plan: StreamPlan,
                     fault: FaultKind | None) -> None:
    """Send a stream, log it at its end (before the final events), honour faults."""
    reply, pieces = plan.reply, plan.pieces
    config = service.config
    writer = SseWriter(ex, config.ttft_ms, config.tokens_per_s,
                       reply.usage.output_reasoning_tokens)
    visible = reply.usage.output_tokens - reply.usage.output_reasoning_tokens
    total_chars = sum(map(len, pieces)) or 1
    cut = len(pieces) // 2 if fault == "disconnect" else None
    sent = done_chars = 0
    count = service.engine.counter(plan.model)

    def partial(**kwargs: Any) -> None:
        text = plan.prefix + "".join(pieces[:sent])
        service.record(ex, plan.model.name, usage=reply.delivered(text, count), stream=True,
                       complete=False, response_id=plan.response_id, **kwargs)

    await ex.start_stream()
    try:
        for event in plan.head:
            await writer.event(event)
        for index, piece in enumerate([*pieces, None]):
            if index == cut:
                await writer.flush()
                partial(fault="disconnect")
                raise SimulatedDisconnect(ex.request_id)
            if piece is None:
                break
            done_chars += len(piece)
            await writer.event(plan.piece_event(piece), visible * done_chars / total_chars)
            sent = index + 1
        service.record(ex, plan.model.name, usage=reply.usage, stream=True,
                       response_id=plan.response_id, usage_sent=plan.usage_sent,
                       finish=reply.finish)
        await writer.finish(plan.tail())
    except ClientGone:
        partial(fault="client-disconnect")
    finally:
        await ex.close_stream()


async def respond(service: Service, ex: Exchange, model: SimModel, reply: Reply,
                  payload: dict[str, Any], fault: FaultKind | None,
                  response_id: str) -> None:
    """A non-stream answer: wait the generation time, log, then send (or drop halfway)."""
    await pace(service.config, reply.usage.output_tokens)
    dropped = fault == "disconnect"
    service.record(ex, model.name, usage=reply.usage, stream=False, fault=fault,
                   complete=not dropped, response_id=response_id, usage_sent=not dropped,
                   finish=reply.finish)
    if dropped:
        await ex.send_partial_json(payload)
    await ex.send_json(200, payload)
