"""The stream relay writes what one upstream read completed in one piece: the same bytes in
the same order, events cut across reads held back until whole, the call counted once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_env import KEY, Env

from ciyuan.gateway.requests import ENDPOINTS
from ciyuan.gateway.streaming import relay

pytestmark = pytest.mark.anyio


def _event(data: dict[str, object] | str) -> bytes:
    return b"data: " + (data if isinstance(data, str) else json.dumps(data)).encode() + b"\n\n"


def _delta(text: str) -> bytes:
    return _event({"choices": [{"index": 0, "delta": {"content": text}}]})


USAGE = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
EVENTS = [_delta("Hello"), _delta(" there"), _delta(" friend"),
          _event({"choices": [], "usage": USAGE}), _event("[DONE]")]


class _Reads(httpx.AsyncByteStream):
    def __init__(self, reads: list[bytes]) -> None:
        self.reads = reads

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for read in self.reads:
            yield read


async def _relay(env: Env, reads: list[bytes], wants_usage: bool) -> list[bytes]:
    body: dict[str, object] = {"model": "gpt-4o", "stream": True,
                               "messages": [{"role": "user", "content": "hi"}]}
    if wants_usage:
        body["stream_options"] = {"include_usage": True}
    call = await env.gateway.prepare(ENDPOINTS["chat.completions"],
                                     {"authorization": f"Bearer {KEY}"}, body,
                                     time.perf_counter())
    upstream = httpx.Response(200, stream=_Reads(reads))
    return [piece async for piece in relay(env.gateway, call, call.routes[0], upstream)]


async def test_events_of_one_read_go_out_together(env: Env) -> None:
    whole = b"".join(EVENTS)
    cut = len(EVENTS[0]) + 7  # the second event is split across the first two reads
    reads = [whole[:cut], whole[cut:len(whole) - 3], whole[len(whole) - 3:]]
    pieces = await _relay(env, reads, wants_usage=True)
    assert pieces[:2] == [EVENTS[0], b"".join(EVENTS[1:4])]  # whole events only
    assert b"".join(pieces[:3]) == whole  # then [DONE]; a receipt comment would follow
    record = next(iter(env.usage.records.values()))
    assert record.status == "completed" and record.usage_method == "reported"
    assert record.usage is not None and record.usage.output_tokens == 3
    assert record.response_sha256 == hashlib.sha256(whole).hexdigest()


async def test_usage_the_client_did_not_ask_for_is_dropped_from_its_read(env: Env) -> None:
    pieces = await _relay(env, [b"".join(EVENTS)], wants_usage=False)
    sent = b"".join(pieces)
    assert sent == b"".join(EVENTS[:3] + EVENTS[4:])  # the usage-only chunk held back
    record = next(iter(env.usage.records.values()))
    assert record.usage is not None and record.usage.input_tokens == 9
    assert record.response_sha256 == hashlib.sha256(sent).hexdigest()


async def test_a_settlement_that_fails_is_not_made_again_when_the_relay_closes(
        env: Env) -> None:
    calls: list[str] = []
    budgets = env.gateway.budgets

    async def failing_settle(reservation: object, actual_nano: int) -> None:
        calls.append("settle")
        raise RuntimeError("the ledger refused")

    def settle_now(reservation: object, actual_nano: int) -> None:
        calls.append("settle_now")

    budgets.settle = failing_settle  # type: ignore[method-assign]
    budgets.settle_now = settle_now  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="the ledger refused"):
        await _relay(env, [b"".join(EVENTS)], wants_usage=True)
    assert calls == ["settle"]  # once: the relay's finally does not settle a second time


async def test_a_relay_cut_short_in_the_settlement_wait_settles_once_as_delivered(
        env: Env) -> None:
    budgets = env.gateway.budgets
    started = asyncio.Event()
    posted: list[tuple[str, int]] = []

    async def slow_settle(reservation: object, actual_nano: int) -> None:
        posted.append(("settle", actual_nano))
        started.set()
        await asyncio.Event().wait()  # the loop's flush never comes: the client leaves first

    def settle_now(reservation: object, actual_nano: int) -> None:
        posted.append(("settle_now", actual_nano))

    budgets.settle = slow_settle  # type: ignore[method-assign]
    budgets.settle_now = settle_now  # type: ignore[method-assign]
    task = asyncio.ensure_future(_relay(env, [b"".join(EVENTS)], wants_usage=True))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (_, amount), (how, again) = posted
    assert how == "settle_now" and again == amount  # the same, reported, amount: once more
    record = next(iter(env.usage.records.values()))
    assert record.status == "completed" and record.usage_method == "reported"


REASONED = {"prompt_tokens": 9, "completion_tokens": 40, "total_tokens": 49,
            "completion_tokens_details": {"reasoning_tokens": 30}}  # not what a count finds


def _record(env: Env):  # type: ignore[no-untyped-def]
    (record,) = env.usage.records.values()
    return record


async def test_events_framed_with_crlf_are_read_and_go_out_framed_with_lf(env: Env) -> None:
    crlf = [e.replace(b"\n", b"\r\n") for e in EVENTS]
    cut = len(crlf[0]) - 1  # a CR and its LF in two reads
    whole = b"".join(crlf)
    pieces = await _relay(env, [whole[:cut], whole[cut:]], wants_usage=False)
    sent = b"".join(pieces)
    assert b"\r" not in sent and b'"usage"' not in sent  # the usage chunk was found, and hidden
    assert sent.startswith(b"".join([EVENTS[0], EVENTS[1], EVENTS[2], EVENTS[4]]))
    record = _record(env)
    assert record.usage_method == "reported" and record.usage.output_tokens == 3


async def test_an_event_with_its_data_over_several_lines_is_read(env: Env) -> None:
    split = (b'data: {"choices": [{"index": 0, "delta":\ndata: {"content": "'
             + b" word" * 50 + b'"}}]}\n\n')
    await _relay(env, [split, _event("[DONE]")], wants_usage=True)
    record = _record(env)  # no usage from the upstream: counted, and the 50 words are in it
    assert record.usage_method == "counted" and record.usage.output_tokens >= 50


async def test_a_last_event_without_its_blank_line_is_read(env: Env) -> None:
    usage = _event({"choices": [], "usage": REASONED})
    await _relay(env, [*EVENTS[:3], usage, b"data: [DONE]\n"], wants_usage=True)
    assert _record(env).usage_method == "reported"  # the end was seen, the usage counts


async def test_a_last_usage_event_without_its_blank_line_is_hidden_all_the_same(
        env: Env) -> None:
    usage = _event({"choices": [], "usage": REASONED}).rstrip(b"\n")  # and no [DONE] at all
    pieces = await _relay(env, [*EVENTS[:3], usage], wants_usage=False)
    assert b'"usage"' not in b"".join(pieces)


async def test_a_client_that_leaves_after_taking_the_end_is_billed_the_reported_usage(
        env: Env) -> None:
    gate = asyncio.Event()

    class _EndsLate(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"".join([*EVENTS[:3], _event({"choices": [], "usage": REASONED}),
                            _event("[DONE]")])
            await gate.wait()  # the upstream's end of body comes late

    body = {"model": "gpt-4o", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}]}
    call = await env.gateway.prepare(ENDPOINTS["chat.completions"],
                                     {"authorization": f"Bearer {KEY}"}, body,
                                     time.perf_counter())
    pieces = relay(env.gateway, call, call.routes[0], httpx.Response(200, stream=_EndsLate()))
    assert b"[DONE]" in await pieces.__anext__()  # the client has the whole answer
    waiting = asyncio.ensure_future(pieces.__anext__())  # for the upstream's end
    await asyncio.sleep(0.01)
    waiting.cancel()  # the client goes away
    with pytest.raises(asyncio.CancelledError):
        await waiting
    record = _record(env)
    assert record.usage_method == "reported" and record.usage.output_tokens == 40
    assert record.usage.reasoning_tokens == 30 and record.error == "client disconnected"


async def test_provider_usage_that_cannot_be_read_is_counted_instead(env: Env) -> None:
    bad = {"prompt_tokens": 9, "completion_tokens": 5,
           "completion_tokens_details": {"reasoning_tokens": 500}}  # reasoning > output
    pieces = await _relay(env, [*EVENTS[:3], _event({"choices": [], "usage": bad}),
                                _event("[DONE]")], wants_usage=True)
    assert b"[DONE]" in b"".join(pieces)  # the stream went out whole
    record = _record(env)
    assert record.status == "completed" and record.usage_method == "counted"
    assert record.usage.output_tokens == 3 and "counted instead" in record.error
