"""POST/GET /v1/outcomes in-process: linked to the caller's own records, strict bodies, exact
numbers, idempotent retries, nothing stored on any error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from outcome_env import ACME, GLOBEX, OutcomeEnv

pytestmark = pytest.mark.anyio


@pytest.fixture()
async def oenv(tmp_path: Path) -> AsyncIterator[OutcomeEnv]:
    e = OutcomeEnv(tmp_path)
    yield e
    await e.aclose()


async def _post(env: OutcomeEnv, body: object, auth: dict[str, str] = ACME,
                key: str = "") -> tuple[int, dict[str, Any]]:
    headers = {"idempotency-key": key} if key else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await env.client.post("/v1/outcomes", content=content,
                                     headers={**auth, "content-type": "application/json",
                                              **headers})
    return response.status_code, response.json()


@pytest.mark.parametrize("kind", ["accepted", "rejected", "partial"])
async def test_each_outcome_is_stored_and_linked(oenv: OutcomeEnv, kind: str) -> None:
    record_id = await oenv.call(ACME, task="ticket-1")
    status, body = await _post(oenv, {"request_id": record_id, "outcome": kind,
                                      "score": 0.8, "note": "checked by QA"})
    assert status == 201, body
    assert body["object"] == "outcome" and body["outcome"] == kind
    assert body["request_id"] == record_id and body["task_id"] == "ticket-1"
    assert body["score"] == "0.8" and body["value"] is None
    [stored] = oenv.outcomes.list("acme")
    assert stored.record_id == record_id and stored.task == "ticket-1"
    assert stored.outcome == kind and stored.score == Decimal("0.8")
    assert oenv.usage.get([record_id])[record_id].tenant == stored.tenant == "acme"


async def test_value_is_read_exactly_from_its_digits(oenv: OutcomeEnv) -> None:
    record_id = await oenv.call(ACME)
    raw = ('{"request_id": "' + record_id + '", "outcome": "accepted", '
           '"value": 12345678.123456789, "currency": "usd"}').encode()
    status, body = await _post(oenv, raw)
    assert status == 201, body
    assert body["value"] == "12345678.123456789" and body["currency"] == "USD"
    assert oenv.outcomes.list("acme")[0].value == Decimal("12345678.123456789")
    status, body = await _post(oenv, {"request_id": record_id, "outcome": "partial",
                                      "value": "1234567.5", "currency": "CNY"})
    assert status == 201 and body["value"] == "1234567.5"


async def test_a_task_with_one_call_links_the_record_and_with_several_the_task(
        oenv: OutcomeEnv) -> None:
    only = await oenv.call(ACME, task="solo")
    await oenv.call(ACME, task="batch")
    await oenv.call(ACME, task="batch")
    status, one = await _post(oenv, {"task_id": "solo", "outcome": "accepted"})
    assert status == 201 and one["request_id"] == only and one["task_id"] == "solo"
    status, many = await _post(oenv, {"task_id": "batch", "outcome": "rejected"})
    assert status == 201 and many["request_id"] is None and many["task_id"] == "batch"
    stored = oenv.outcomes.list("acme")
    assert [(o.record_id, o.task) for o in stored] == [(only, "solo"), ("", "batch")]


async def test_another_tenants_request_is_the_same_404_as_an_unknown_one(
        oenv: OutcomeEnv) -> None:
    theirs = await oenv.call(GLOBEX, task="secret-task")
    s1, other = await _post(oenv, {"request_id": theirs, "outcome": "accepted"})
    s2, unknown = await _post(oenv, {"request_id": "ur-" + "0" * 32, "outcome": "accepted"})
    s3, task = await _post(oenv, {"task_id": "secret-task", "outcome": "accepted"})
    assert s1 == s2 == s3 == 404
    assert other["error"]["code"] == unknown["error"]["code"] == "outcome_subject_not_found"
    assert other["error"]["message"].replace(theirs, "X") == \
        unknown["error"]["message"].replace("ur-" + "0" * 32, "X")
    assert oenv.outcomes.list(None) == []
    status, ok = await _post(oenv, {"request_id": theirs, "outcome": "accepted"}, GLOBEX)
    assert status == 201 and [o.tenant for o in oenv.outcomes.list(None)] == ["globex"]


async def test_a_bad_key_is_401_and_stores_nothing(oenv: OutcomeEnv) -> None:
    record_id = await oenv.call(ACME)
    for auth in ({}, {"authorization": "Bearer cy-nope"}):
        status, body = await _post(oenv, {"request_id": record_id, "outcome": "accepted"}, auth)
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert oenv.outcomes.list(None) == []


BAD_BODIES = [
    (b"{nope", "body"),
    (b"[1, 2]", "body"),
    (b'{"request_id": "R", "outcome": "accepted", "value": NaN, "currency": "USD"}', "body"),
    (b'\xff\xfe', "body"),
    ({"request_id": "R"}, "outcome"),
    ({"request_id": "R", "outcome": "great"}, "outcome"),
    ({"outcome": "accepted"}, "request_id"),
    ({"request_id": "R", "outcome": "accepted", "score": 1.5}, "score"),
    ({"request_id": "R", "outcome": "accepted", "score": -0.01}, "score"),
    ({"request_id": "R", "outcome": "accepted", "score": "high"}, "score"),
    ({"request_id": "R", "outcome": "accepted", "score": True}, "score"),
    ({"request_id": "R", "outcome": "accepted", "value": "10"}, "currency"),
    ({"request_id": "R", "outcome": "accepted", "value": -5, "currency": "USD"}, "value"),
    ({"request_id": "R", "outcome": "accepted", "value": 0, "currency": "USD"}, "value"),
    ({"request_id": "R", "outcome": "accepted", "value": "1e12", "currency": "USD"}, "value"),
    ({"request_id": "R", "outcome": "accepted", "value": "0.0000000001", "currency": "USD"},
     "value"),
    ({"request_id": "R", "outcome": "accepted", "currency": "USD"}, "currency"),
    ({"request_id": "R", "outcome": "accepted", "value": 1, "currency": "US"}, "currency"),
    ({"request_id": "R", "outcome": "accepted", "reqeust_id": "R"}, "reqeust_id"),
    ({"request_id": 7, "outcome": "accepted"}, "request_id"),
    ({"request_id": "R", "outcome": "accepted", "note": "n" * 2001}, "note"),
    ({"request_id": "R", "task_id": "other-task", "outcome": "accepted"}, "task_id"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_each_bad_body_is_422_naming_the_field_and_stores_nothing(
        oenv: OutcomeEnv, body: object, field: str) -> None:
    record_id = await oenv.call(ACME, task="t-1")
    if isinstance(body, dict):
        body = {k: record_id if v == "R" else v for k, v in body.items()}
    elif isinstance(body, bytes):
        body = body.replace(b'"R"', f'"{record_id}"'.encode())
    status, answer = await _post(oenv, body)
    assert status == 422, answer
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["param"] == field and answer["error"]["message"]
    assert oenv.outcomes.list(None) == []


async def test_a_bad_body_about_an_unknown_request_is_still_422(oenv: OutcomeEnv) -> None:
    status, _ = await _post(oenv, {"request_id": "ur-nope", "outcome": "accepted",
                                   "score": 2})
    assert status == 422


async def test_an_oversized_body_is_413_and_stores_nothing(oenv: OutcomeEnv) -> None:
    record_id = await oenv.call(ACME)
    body = json.dumps({"request_id": record_id, "outcome": "accepted",
                       "note": "x" * 70_000}).encode()
    status, answer = await _post(oenv, body)
    assert status == 413 and answer["error"]["code"] == "body_too_large"
    assert oenv.outcomes.list(None) == []


async def test_an_idempotent_retry_is_200_and_a_changed_body_409(oenv: OutcomeEnv) -> None:
    record_id = await oenv.call(ACME)
    report = {"request_id": record_id, "outcome": "accepted", "value": "5", "currency": "USD"}
    s1, first = await _post(oenv, report, key="crm-77")
    s2, again = await _post(oenv, report, key="crm-77")
    assert (s1, s2) == (201, 200) and first == again and first["id"] == "crm-77"
    s3, conflict = await _post(oenv, {**report, "outcome": "rejected"},
                               key="crm-77")
    assert s3 == 409 and conflict["error"]["code"] == "outcome_conflict"
    assert [o.outcome for o in oenv.outcomes.list(None)] == ["accepted"]
    # another tenant may choose the same key: no conflict, and nothing learnt
    theirs = await oenv.call(GLOBEX)
    s4, _ = await _post(oenv, {"request_id": theirs, "outcome": "rejected"}, GLOBEX,
                        key="crm-77")
    assert s4 == 201 and len(oenv.outcomes.list(None)) == 2


async def test_without_a_key_each_report_is_new_and_the_latest_is_in_force(
        oenv: OutcomeEnv) -> None:
    from ciyuan.core.outcomes import effective_outcomes

    record_id = await oenv.call(ACME)
    for kind in ("rejected", "accepted"):
        status, _ = await _post(oenv, {"request_id": record_id, "outcome": kind})
        assert status == 201
    stored = oenv.outcomes.list("acme")
    assert len(stored) == 2 and len({o.id for o in stored}) == 2
    assert [o.outcome for o in effective_outcomes(stored)] == ["accepted"]


async def test_get_lists_the_callers_reports_only(oenv: OutcomeEnv) -> None:
    mine = await oenv.call(ACME, task="t-9")
    theirs = await oenv.call(GLOBEX, task="t-9")
    await _post(oenv, {"request_id": mine, "outcome": "partial", "score": "0.5"})
    await _post(oenv, {"request_id": theirs, "outcome": "accepted"}, GLOBEX)
    listed = await oenv.client.get("/v1/outcomes", params={"task_id": "t-9"}, headers=ACME)
    assert listed.status_code == 200
    data = listed.json()["data"]
    assert [(d["request_id"], d["outcome"], d["score"]) for d in data] == [
        (mine, "partial", "0.5")]
    by_id = await oenv.client.get("/v1/outcomes", params={"request_id": theirs}, headers=ACME)
    assert by_id.status_code == 200 and by_id.json()["data"] == []
    bare = await oenv.client.get("/v1/outcomes", headers=ACME)
    assert bare.status_code == 422
    anonymous = await oenv.client.get("/v1/outcomes", params={"task_id": "t-9"})
    assert anonymous.status_code == 401
