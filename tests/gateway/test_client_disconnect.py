"""A client that leaves mid-stream is billed for its input and what was delivered, and the
relay stops at once instead of reading the rest of the answer from the upstream."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from ciyuan.measure import default_measurer
from ciyuan.store.usage import open_usage_store
from sim_gateway import sim_gateway, tenant_and_key

#: The sim streams this slowly, so the whole answer would take seconds to arrive.
TOKENS_PER_S = 40
MAX_TOKENS = 200
#: Content chunks the client reads before it closes the connection.
READ_CHUNKS = 8
#: Longest wait for the gateway to close the record after the client left.
SETTLE_WAIT_S = 20.0


def test_client_leaving_mid_stream_pays_for_what_it_got(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/ciyuan.db"
    key = tenant_and_key(db_url, "leaver")
    body = {"model": "gpt-4o", "stream": True, "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": "Tell me a long story about tokens."}]}
    received = ""
    with sim_gateway(db_url, ["--models", "gpt-4o", "--tokens-per-s", str(TOKENS_PER_S)]) as url:
        with httpx.Client(timeout=30) as client, client.stream(
                "POST", f"{url}/v1/chat/completions", json=body,
                headers={"authorization": f"Bearer {key}"}) as response:
            assert response.status_code == 200
            record_id = response.headers["x-ciyuan-usage-record"]
            chunks = 0
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    delta = json.loads(line[6:])["choices"][0]["delta"]
                    received += delta.get("content") or ""
                    chunks += 1
                    if chunks == READ_CHUNKS:
                        break  # leaving the block closes the connection mid-stream
        left_at = time.monotonic()
        usage = open_usage_store(db_url)
        try:
            record = usage.get([record_id])[record_id]
            while record.status == "pending" and time.monotonic() - left_at < SETTLE_WAIT_S:
                time.sleep(0.05)
                record = usage.get([record_id])[record_id]
        finally:
            usage.close()
    settled_after = time.monotonic() - left_at
    assert record.status == "completed" and record.error == "client disconnected"
    assert record.usage_method == "counted" and record.usage is not None
    delivered = default_measurer().count(received, "gpt-4o").native_tokens
    # at least what the client read, and far from the whole answer: the relay stopped when
    # the client left, not when the upstream finished
    assert delivered <= record.usage.output_tokens < MAX_TOKENS // 2
    assert record.usage.input_tokens > 0 and record.charge_nano > 0
    assert settled_after < MAX_TOKENS / TOKENS_PER_S / 2
