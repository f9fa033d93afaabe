"""Fast checks of the sim-provider app in-process (httpx.ASGITransport, no server)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from simhelpers import SEED, call, log_records

from ciyuan.sim import SimApp
from ciyuan.sim.config import MAX_BODY_BYTES

AppFactory = Callable[..., SimApp]
CHAT = "/v1/chat/completions"
ASK = {"model": "sim-gpt", "messages": [{"role": "user", "content": "Say something"}]}


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "sim-bad-request"),
    (b"\xff\xfe", 400, "sim-bad-request"),
    (b"[1, 2]", 400, "sim-bad-request"),
    (json.dumps({"model": "sim-gpt", "messages": "hi"}).encode(), 400, "sim-bad-request"),
    (json.dumps({"model": "sim-gpt", "messages": [{"role": "robot", "content": "x"}]}).encode(),
     400, "invalid-chat"),
    (json.dumps({**ASK, "max_tokens": 0}).encode(), 400, "sim-bad-request"),
    (json.dumps({**ASK, "model": "gpt-x"}).encode(), 404, "model_not_found"),
])
def test_bad_requests_get_the_openai_envelope(app_factory: AppFactory, body: bytes,
                                              status: int, code: str) -> None:
    response = call(app_factory(), "POST", CHAT, content=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["type"]


def test_bounds_and_routes(app_factory: AppFactory) -> None:
    app = app_factory()
    too_big = call(app, "POST", CHAT, content=b" " * (MAX_BODY_BYTES + 1))
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "sim-body-too-large"
    assert call(app, "GET", CHAT).status_code == 405
    assert call(app, "GET", "/v1/nothing").status_code == 404
    assert call(app, "GET", "/v1/models/sim-gpt").json()["ciyuan"]["tokenizer"] == "o200k_base"
    assert call(app, "GET", "/healthz").json()["status"] == "ok"
    export = call(app, "GET", "/v1/organization/usage/completions")
    assert export.status_code == 404 and export.json()["error"]["code"] == "sim-no-log"


def test_answers_are_determined_by_seed_and_content(app_factory: AppFactory,
                                                    oai: openai.OpenAI) -> None:
    def answer(app: SimApp, body: dict[str, Any] = ASK) -> str:
        return str(call(app, "POST", CHAT, body).json()["choices"][0]["message"]["content"])

    first, again, other = app_factory(seed=SEED), app_factory(seed=SEED), app_factory(seed=99)
    assert answer(first) == answer(again) != answer(other)
    assert answer(first) != answer(first, {**ASK, "messages": [{"role": "user", "content": "?"}]})
    # and across processes: the real server with the same seed says the same
    remote = oai.chat.completions.create(model="sim-gpt", messages=ASK["messages"])
    assert remote.choices[0].message.content == answer(first)


def test_pacing_by_ttft_and_tokens_per_second(app_factory: AppFactory) -> None:
    app = app_factory(ttft_ms=80, tokens_per_s=2000)
    started = time.monotonic()
    response = call(app, "POST", CHAT, {**ASK, "max_tokens": 100}).json()
    elapsed = time.monotonic() - started
    assert elapsed >= 0.08 + response["usage"]["completion_tokens"] / 2000 - 0.005
    started = time.monotonic()
    streamed = call(app, "POST", CHAT, {**ASK, "max_tokens": 100, "stream": True})
    assert time.monotonic() - started >= 0.08 and streamed.text.endswith("data: [DONE]\n\n")


def test_legacy_completion_stream_with_usage(app_factory: AppFactory) -> None:
    body = {"model": "sim-gpt", "prompt": "天气怎么样", "max_tokens": 12, "stream": True,
            "stream_options": {"include_usage": True}}
    events = [json.loads(line[6:]) for line in call(app_factory(), "POST", "/v1/completions",
                                                    body).text.splitlines()
              if line.startswith("data: {")]
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] <= 12
    assert all(e["usage"] is None for e in events[:-1])
    text = "".join(e["choices"][0]["text"] for e in events[:-1])
    assert text and all("\u4e00" <= c <= "\u9fff" or not c.isalpha() for c in text)


def test_http_export_buckets_group_and_pages(app_factory: AppFactory, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "served.jsonl"
    app = app_factory(log_path=log, fault_rate=0.5, seed=3, faults=("429", "500"))
    for index in range(8):
        call(app, "POST", CHAT, {**ASK, "messages": [{"role": "user", "content": f"q{index}"}]})
    records = log_records(log).values()
    billed = [r for r in records if r["status"] == 200]
    assert len(records) == 8 and 0 < len(billed) < 8  # some faults at rate 0.5
    path = "/v1/organization/usage/completions?group_by=model&bucket_width=1h"
    page = call(app, "GET", path).json()
    [result] = [r for b in page["data"] for r in b["results"]]
    assert result["model"] == "sim-gpt" and result["num_model_requests"] == len(billed)
    assert result["output_tokens"] == sum(r["usage"]["output_tokens"] for r in billed)
    monkeypatch.setattr("ciyuan.sim.export.EXPORT_PAGE_ROWS", 2)
    first = call(app, "GET", path).json()
    assert first["has_more"] is True and first["next_page"] == "2"
    rest = call(app, "GET", path + "&page=2").json()
    assert rest["data"][0]["results"][0]["num_model_requests"] == min(2, len(billed) - 2)
    bad = call(app, "GET", "/v1/organization/usage/completions?bucket_width=2w")
    assert bad.status_code == 400
