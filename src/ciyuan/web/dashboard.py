"""The live operator dashboard served by ``ciyuan serve`` at ``/dashboard``.

The page (``static/dashboard.html``, ``.js``, ``.css``, shipped in the package, no network)
polls two JSON routes and draws its charts as SVG:

* ``/dashboard/api/live``: tokens and cost today (UTC), per hour, top tenants and agents, and
  how full each tenant's budget is;
* ``/dashboard/api/release``: the latest statistical release in the release directory.

Access: with an admin token configured (``CIYUAN_ADMIN_TOKEN``) both routes want
``Authorization: Bearer <token>`` (the page takes it from ``#token=…`` in its URL); without one
they answer loopback clients only, so a dashboard is never open to the network by accident.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ciyuan.billing import Billing
from ciyuan.billing.budgets import Scope
from ciyuan.core.money import from_nano
from ciyuan.core.records import UsageRecord
from ciyuan.store.usage import UsageStore

__all__ = ["STATIC_FILES", "TOP", "DashboardData", "StoreDashboardData", "dashboard_routes",
           "latest_release", "summarize_today", "tenant_budgets"]

#: Rows in the top tenants and top agents tables.
TOP = 10
#: The only files /dashboard/static/ serves.
STATIC_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class DashboardData(Protocol):
    def live(self) -> dict[str, Any]: ...

    def latest_release(self) -> dict[str, Any] | None: ...


def _money(nano: int) -> str:
    return format(from_nano(nano).quantize(Decimal("0.000001")), "f")


def _bucket() -> dict[str, Any]:
    return {"requests": 0, "native_tokens": 0, "standard_tokens": 0,
            "cost": defaultdict(int)}


def _add(bucket: dict[str, Any], record: UsageRecord) -> None:
    usage = record.usage
    bucket["requests"] += 1
    bucket["native_tokens"] += (usage.input_tokens + usage.output_tokens) if usage else 0
    bucket["standard_tokens"] += record.standard_input_tokens + record.standard_output_tokens
    bucket["cost"][record.currency or "USD"] += record.charge_nano


def _out(bucket: dict[str, Any], **extra: object) -> dict[str, Any]:
    return {**extra, "requests": bucket["requests"], "native_tokens": bucket["native_tokens"],
            "standard_tokens": bucket["standard_tokens"],
            "cost": {c: _money(n) for c, n in sorted(bucket["cost"].items())}}


def summarize_today(records: Iterable[UsageRecord], now: dt.datetime) -> dict[str, Any]:
    """The live panel's figures from the settled records of today (UTC)."""
    total = _bucket()
    hours: dict[str, dict[str, Any]] = defaultdict(_bucket)
    tenants: dict[str, dict[str, Any]] = defaultdict(_bucket)
    agents: dict[tuple[str, str], dict[str, Any]] = defaultdict(_bucket)
    for record in records:
        _add(total, record)
        hour = record.started_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:00:00Z")
        _add(hours[hour], record)
        _add(tenants[record.tenant], record)
        _add(agents[(record.tenant, record.agent or "(no agent)")], record)

    def top(groups: dict[Any, dict[str, Any]]) -> list[tuple[Any, dict[str, Any]]]:
        return sorted(groups.items(), key=lambda kv: (-kv[1]["standard_tokens"], kv[0]))[:TOP]

    return {
        "as_of": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "today": _out(total),
        "hourly": [{"hour": h, "requests": b["requests"],
                    "standard_tokens": b["standard_tokens"]} for h, b in sorted(hours.items())],
        "top_tenants": [_out(b, tenant=t) for t, b in top(tenants)],
        "top_agents": [_out(b, tenant=t, agent=a) for (t, a), b in top(agents)],
    }


def latest_release(release_dir: Path) -> dict[str, Any] | None:
    """The release.json of the latest month under ``release_dir`` (``YYYY-MM/release.json``)."""
    if not release_dir.is_dir():
        return None
    months = sorted(p for p in release_dir.iterdir()
                    if len(p.name) == 7 and p.name[4] == "-" and (p / "release.json").is_file())
    if not months:
        return None
    data: dict[str, Any] = json.loads((months[-1] / "release.json").read_text("utf-8"))
    return data


class StoreDashboardData:
    """The dashboard's figures from the stores a gateway process already holds."""

    def __init__(self, usage: UsageStore, budgets: Callable[[dt.datetime], list[dict[str, Any]]],
                 release_dir: Path,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._usage, self._budgets, self._release_dir, self._now = (
            usage, budgets, release_dir, now)

    def live(self) -> dict[str, Any]:
        now = self._now()
        midnight = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        data = summarize_today(self._usage.query(midnight, now + dt.timedelta(seconds=1)), now)
        data["budgets"] = self._budgets(now)
        return data

    def latest_release(self) -> dict[str, Any] | None:
        return latest_release(self._release_dir)


def tenant_budgets(billing: Billing, tenants: Callable[[], list[str]]
                   ) -> Callable[[dt.datetime], list[dict[str, Any]]]:
    """How full each tenant's own budgets are (the levels inside a tenant show in
    ``ciyuan budgets show``)."""

    def read(now: dt.datetime) -> list[dict[str, Any]]:
        out = []
        for tenant in tenants():
            for s in billing.status(Scope(tenant), now):
                used = s.spent_nano + s.reserved_nano
                out.append({"scope": s.level.path, "period": s.period.key,
                            "currency": s.currency, "limit": _money(s.limit_nano),
                            "spent": _money(s.spent_nano), "reserved": _money(s.reserved_nano),
                            "fill": used / s.limit_nano if s.limit_nano > 0 else float(used > 0)})
        return out

    return read


def _allowed(request: Request, admin_token: str | None) -> Response | None:
    """None when the caller may read the dashboard's data, else the refusal."""
    if admin_token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode("utf-8"), admin_token.encode("utf-8")):
            return None
        return JSONResponse({"error": {"code": "admin-unauthorized", "message":
                             "open the dashboard as /dashboard#token=<CIYUAN_ADMIN_TOKEN>"}},
                            status_code=401)
    client = request.client.host if request.client else ""
    if client in _LOOPBACK:
        return None
    return JSONResponse({"error": {"code": "admin-disabled", "message":
                         "without CIYUAN_ADMIN_TOKEN the dashboard answers loopback clients "
                         "only: set the token on the server and restart it"}},
                        status_code=403)


def _asset(name: str) -> str:
    return resources.files("ciyuan.web").joinpath("static", name).read_text("utf-8")


def dashboard_routes(data: DashboardData, admin_token: str | None) -> list[BaseRoute]:
    """``/dashboard``, its static files and its two JSON routes."""

    async def page(request: Request) -> Response:
        return Response(_asset("dashboard.html"), media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:  # only the shipped files: no path ever reaches the disk
            return JSONResponse({"error": {"code": "not-found", "message":
                                 f"no dashboard file {name!r}"}}, status_code=404)
        return Response(_asset(name), media_type=STATIC_FILES[name])

    async def live(request: Request) -> Response:
        refused = _allowed(request, admin_token)
        return refused or JSONResponse(await run_in_threadpool(data.live))

    async def release(request: Request) -> Response:
        refused = _allowed(request, admin_token)
        return refused or JSONResponse(await run_in_threadpool(data.latest_release))

    return [Route("/dashboard", page, methods=["GET"]),
            Route("/dashboard/static/{name}", static, methods=["GET"]),
            Route("/dashboard/api/live", live, methods=["GET"]),
            Route("/dashboard/api/release", release, methods=["GET"])]
