"""Hypothesis bodies on POST /v1/outcomes: never a 5xx; a refusal stores nothing and speaks
OpenAI's envelope; an acceptance stores one report about one of the caller's own calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from outcome_env import ACME, GLOBEX, OutcomeEnv


class Fixture:
    def __init__(self, root: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.env = OutcomeEnv(root)
        self.mine = self.run(self.env.call(ACME, task="t-1"))
        self.theirs = self.run(self.env.call(GLOBEX, task="t-2"))

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.run(self.env.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    made = Fixture(tmp_path_factory.mktemp("outcomes-fuzz"))
    yield made
    made.close()


scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False), st.text(max_size=12))
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
numbers = st.one_of(st.decimals(allow_nan=False, allow_infinity=False).map(str),
                    st.integers(-10, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                    junk)
bodies = st.fixed_dictionaries(
    {},
    optional={"request_id": st.sampled_from(["MINE", "THEIRS", "ur-unknown", "", 5]) | junk,
              "task_id": st.sampled_from(["t-1", "t-2", "t-3", ""]) | junk,
              "outcome": st.sampled_from(["accepted", "rejected", "partial", "Accepted", 1]),
              "value": numbers, "currency": st.sampled_from(["USD", "cny", "EURO", ""]) | junk,
              "score": numbers, "note": st.text(max_size=30) | junk,
              "extra": junk})

#: Mostly well-formed reports, so acceptances (and near misses) are explored too.
near = st.fixed_dictionaries(
    {"request_id": st.sampled_from(["MINE", "MINE", "THEIRS", "ur-unknown"]),
     "outcome": st.sampled_from(["accepted", "rejected", "partial"])},
    optional={"value": st.decimals(min_value=-1, max_value=10**10, places=10).map(str),
              "currency": st.just("USD"),
              "score": st.decimals(min_value=Decimal("-0.5"), max_value=Decimal("1.5"),
                                   places=3),
              "task_id": st.sampled_from(["t-1", "t-2"])}).map(
    lambda d: {**d, "score": float(str(d["score"]))} if "score" in d else d)


def _fill(body: dict[str, Any], fx: Fixture) -> bytes:
    names = {"MINE": fx.mine, "THEIRS": fx.theirs}
    if isinstance(body.get("request_id"), str):
        body["request_id"] = names.get(body["request_id"], body["request_id"])
    return json.dumps(body).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.one_of(near, near, bodies, junk), raw=st.none() | st.binary(max_size=40),
       key=st.none() | st.sampled_from(["k1", "k2", "x" * 201]))
def test_no_5xx_and_nothing_stored_on_refusal(fx: Fixture, body: Any, raw: bytes | None,
                                              key: str | None) -> None:
    content = raw if raw is not None else (
        _fill(body, fx) if isinstance(body, dict) else json.dumps(body).encode())
    headers = {**ACME, "content-type": "application/json",
               **({"idempotency-key": key} if key else {})}
    before = fx.env.outcomes.list(None)
    response = fx.run(fx.env.client.post("/v1/outcomes", content=content, headers=headers))
    after = fx.env.outcomes.list(None)
    event(f"HTTP {response.status_code}")
    assert response.status_code < 500, response.text
    payload = response.json()
    if response.status_code >= 400:
        assert payload["error"]["message"] and payload["error"]["code"], payload
        assert after == before
        return
    assert response.status_code in (200, 201)
    assert len(after) == len(before) + (response.status_code == 201)
    stored = next(o for o in after if o.id == payload["id"])
    assert stored.tenant == "acme"
    assert stored.record_id in ("", fx.mine) and stored.task in ("", "t-1")
    assert stored.score is None or Decimal(0) <= stored.score <= 1
    assert stored.value is None or (stored.value >= 0 and stored.currency)
