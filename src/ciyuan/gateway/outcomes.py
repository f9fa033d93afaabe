"""``POST /v1/outcomes`` and ``GET /v1/outcomes``: outcome reports, linked to usage records.

A client that called the gateway later says what became of the answer::

    POST /v1/outcomes   Authorization: Bearer cy-…   [Idempotency-Key: K]
    {"request_id": "ur-…", "outcome": "accepted", "value": "19.99", "currency": "USD"}

``request_id`` is the ``X-Ciyuan-Usage-Record`` header of the call's response; ``task_id`` is
the ``X-Ciyuan-Task`` the calls carried. The record (or task) must be the caller's tenant's:
an unknown id and another tenant's id get the same 404, so a report never reveals that
someone else's record exists. 201 with the stored report; 200 when an ``Idempotency-Key`` is
retried with the same body; 409 when it comes with another one. Nothing is stored on any
error. Errors travel in OpenAI's envelope like every ``/v1`` error.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ciyuan.core.errors import CiyuanError, InputError, NotFoundError
from ciyuan.core.outcomes import MAX_OUTCOME_ID_CHARS, Outcome
from ciyuan.gateway.errors import GatewayError, error_body, status_of
from ciyuan.gateway.outcome_body import (
    MAX_OUTCOME_BODY_BYTES,
    OutcomeRequest,
    parse_outcome_body,
)
from ciyuan.gateway.ports import Principal
from ciyuan.gateway.requests import read_bounded
from ciyuan.store.outcome_schema import OutcomeConflictError
from ciyuan.store.outcomes import OutcomeStore
from ciyuan.store.usage import TaskRecords, UsageStore

__all__ = ["OutcomeDesk", "OutcomeSubjectNotFoundError", "outcome_json", "outcome_routes"]

_log = logging.getLogger("ciyuan.gateway")
#: Records fetched for a task: only "one" or "several" matters (several: about the task).
_TASK_PROBE = 2
#: Most reports one GET answers with (newest kept); a caller filters by request or task,
#: so more than this is a client looping on one record.
MAX_LISTED_OUTCOMES = 1000


class OutcomeSubjectNotFoundError(NotFoundError):
    code = "outcome-subject-not-found"
    summary = ("An outcome report names a request id or task that this key's tenant has no "
               "call for; use the X-Ciyuan-Usage-Record header of the call's response. HTTP "
               "404 (the same for another tenant's calls).")


@dataclass(frozen=True)
class OutcomeDesk:
    """Receives outcome reports for the gateway: authenticate, link, store."""

    authenticate: Callable[[Mapping[str, str]], Principal]
    usage: UsageStore
    tasks: TaskRecords
    outcomes: OutcomeStore
    now: Callable[[], dt.datetime]

    def _link(self, tenant: str, ask: OutcomeRequest) -> tuple[str, str]:
        """``(record_id, task)`` of the report; 404 unless the tenant has such a call."""
        if ask.request_id:
            record = self.usage.get([ask.request_id]).get(ask.request_id)
            if record is None or record.tenant != tenant:
                raise OutcomeSubjectNotFoundError(
                    f"no call with request id {ask.request_id!r} for this key: use the "
                    "X-Ciyuan-Usage-Record header of the call's response", field="request_id")
            if ask.task_id and record.task != ask.task_id:
                raise InputError(f"request {ask.request_id!r} is not in task {ask.task_id!r}; "
                                 "give only one of request_id and task_id", field="task_id")
            return record.id, record.task
        found = self.tasks.task_records(tenant, ask.task_id, limit=_TASK_PROBE)
        if not found:
            raise OutcomeSubjectNotFoundError(
                f"no call with task {ask.task_id!r} for this key: send X-Ciyuan-Task with the "
                "calls, or report by request_id", field="task_id")
        return (found[0].id if len(found) == 1 else ""), ask.task_id

    def report(self, headers: Mapping[str, str], raw: bytes) -> tuple[Outcome, bool]:
        """The stored report and whether it is new (False: an idempotent retry)."""
        principal = self.authenticate(headers)
        ask = parse_outcome_body(raw)
        key = headers.get("idempotency-key", "").strip()
        if len(key) > MAX_OUTCOME_ID_CHARS:
            raise InputError(f"Idempotency-Key is at most {MAX_OUTCOME_ID_CHARS} characters",
                             field="idempotency-key")
        # Built before linking, so a malformed report is a 422 whatever it names.
        asked = Outcome(
            id=key or f"oc-{uuid.uuid4().hex}", tenant=principal.tenant,
            record_id=ask.request_id, task=ask.task_id, outcome=ask.outcome,
            reported_at=self.now(), value=ask.value, currency=ask.currency, score=ask.score,
            note=ask.note)
        record_id, task = self._link(principal.tenant, ask)
        candidate = replace(asked, record_id=record_id, task=task)
        stored = self.outcomes.add(candidate)
        return stored, stored == candidate

    def listed(self, headers: Mapping[str, str], query: Mapping[str, str]) -> list[Outcome]:
        principal = self.authenticate(headers)
        request_id, task = query.get("request_id", ""), query.get("task_id", "")
        if not request_id and not task:
            raise InputError("give ?request_id= or ?task_id= (`ciyuan outcomes` lists all)",
                             field="request_id")
        found = self.outcomes.list(principal.tenant,
                                   record_ids=[request_id] if request_id else None,
                                   task=task or None)
        return found[-MAX_LISTED_OUTCOMES:]


def outcome_json(o: Outcome) -> dict[str, Any]:
    """The report as the API shows it (the caller's own tenant is implied, so left out)."""
    data: dict[str, Any] = {"object": "outcome", **o.to_dict()}
    del data["tenant"]
    return data


def _json(payload: object, status: int) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status_code=status,
                    media_type="application/json")


def _error(error: CiyuanError) -> Response:
    status = 409 if isinstance(error, OutcomeConflictError) else status_of(error)
    return Response(error_body(error), status_code=status, media_type="application/json")


async def _read(request: Request) -> bytes:
    return await read_bounded(request.stream(), MAX_OUTCOME_BODY_BYTES,
                              f"an outcome report is at most {MAX_OUTCOME_BODY_BYTES:,} bytes: "
                              "shorten the note", limit=MAX_OUTCOME_BODY_BYTES)


def _guarded(what: str, handle: Callable[[Request], Any]) -> Callable[[Request], Any]:
    async def handler(request: Request) -> Response:
        try:
            response: Response = await handle(request)
            return response
        except CiyuanError as exc:
            return _error(exc)
        except Exception:  # a bug: log it, answer in the envelope, never a stack trace
            _log.exception("gateway failed on %s", what)
            return _error(GatewayError("the gateway failed on this outcome report; nothing "
                                       "was stored — retry, or report it with the time"))
    return handler


def outcome_routes(desk: OutcomeDesk) -> list[BaseRoute]:
    """The ``/v1/outcomes`` routes, for ``build_app(..., extra=...)``."""

    async def post(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        stored, new = desk.report(headers, await _read(request))
        return _json(outcome_json(stored), 201 if new else 200)

    async def get(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        found = desk.listed(headers, dict(request.query_params))
        return _json({"object": "list", "data": [outcome_json(o) for o in found]}, 200)

    return [Route("/v1/outcomes", _guarded("POST /v1/outcomes", post), methods=["POST"]),
            Route("/v1/outcomes", _guarded("GET /v1/outcomes", get), methods=["GET"])]
