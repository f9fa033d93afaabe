"""The live operator dashboard served by ``ciyuan serve`` at ``/dashboard``.

The page (``static/dashboard.html``, ``.js``, ``.css``, shipped in the package, no network)
polls two JSON routes and draws its charts as SVG:

* ``/dashboard/api/live``: tokens and cost today (UTC), per hour, top tenants and agents, and
  how full each tenant's budget is;
* ``/dashboard/api/release``: the latest statistical release in the release directory.

Access follows the admin API's rule: with an admin token configured (``CIYUAN_ADMIN_TOKEN``)
both routes want ``Authorization: Bearer <token>`` (the page takes it from ``#token=…`` in
its URL); without one they are disabled (403). The page and its static files hold no data.
Money leaves as decimal strings, never floats.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ciyuan.admin.errors import AdminDisabledError, AdminUnauthorizedError
from ciyuan.billing import Billing, Scope
from ciyuan.core.money import CURRENCIES, format_amount, from_nano
from ciyuan.core.records import UsageRecord
from ciyuan.store.usage import UsageStore

__all__ = ["MAX_BUDGET_TENANTS", "STATIC_FILES", "TOP", "DashboardData", "StoreDashboardData",
           "dashboard_routes", "latest_release", "money_text", "summarize_today",
           "tenant_budgets"]

#: Rows in the top tenants and top agents tables.
TOP = 10
#: Most tenants whose budgets one refresh reads (each is a ledger read; the page shows them
#: all, so past this many it would be unreadable anyway).
MAX_BUDGET_TENANTS = 200
#: The only files /dashboard/static/ serves, with their media types.
STATIC_FILES = {"dashboard.js": "text/javascript; charset=utf-8",
                "dashboard.css": "text/css; charset=utf-8"}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class DashboardData(Protocol):
    """What the dashboard shows; JSON-ready dicts (shapes in docs/how-to/dashboard.md)."""

    def live(self) -> dict[str, Any]: ...

    def latest_release(self) -> dict[str, Any] | None: ...


def money_text(amount_nano: int, currency: str) -> str:
    """An exact decimal string, padded (never rounded) to the currency's minor unit."""
    text = format_amount(from_nano(amount_nano))
    whole, _, fraction = text.partition(".")
    places = max(len(fraction), CURRENCIES.get(currency, 0))
    return f"{whole}.{fraction.ljust(places, '0')}" if places else whole


class _Bucket:
    __slots__ = ("cost_nano", "native_tokens", "requests", "standard_tokens")

    def __init__(self) -> None:
        self.requests = self.native_tokens = self.standard_tokens = 0
        self.cost_nano: dict[str, int] = defaultdict(int)

    def add(self, record: UsageRecord) -> None:
        usage = record.usage
        self.requests += 1
        self.native_tokens += (usage.input_tokens + usage.output_tokens) if usage else 0
        self.standard_tokens += record.standard_input_tokens + record.standard_output_tokens
        self.cost_nano[record.currency or "USD"] += record.charge_nano

    def out(self, **names: str) -> dict[str, Any]:
        return {**names, "requests": self.requests, "native_tokens": self.native_tokens,
                "standard_tokens": self.standard_tokens,
                "cost": {c: money_text(n, c) for c, n in sorted(self.cost_nano.items())}}


def _hour(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:00:00Z")


def summarize_today(records: Iterable[UsageRecord], now: dt.datetime) -> dict[str, Any]:
    """The live figures (all but budgets) from the settled records of today (UTC): every
    hour from midnight to ``now`` is listed, the quiet ones with zeros."""
    now = now.astimezone(dt.UTC)
    total = _Bucket()
    hours: dict[str, _Bucket] = defaultdict(_Bucket)
    tenants: dict[tuple[str, ...], _Bucket] = defaultdict(_Bucket)
    agents: dict[tuple[str, ...], _Bucket] = defaultdict(_Bucket)
    for record in records:
        for bucket in (total, hours[_hour(record.started_at)], tenants[(record.tenant,)],
                       agents[(record.tenant, record.agent or "(no agent)")]):
            bucket.add(record)
    for h in range(now.hour + 1):
        hours.setdefault(_hour(now.replace(hour=h)), _Bucket())

    def top(groups: dict[tuple[str, ...], _Bucket]) -> list[tuple[tuple[str, ...], _Bucket]]:
        return sorted(groups.items(), key=lambda kv: (-kv[1].standard_tokens, kv[0]))[:TOP]

    return {
        "as_of": now.isoformat().replace("+00:00", "Z"),
        "today": total.out(),
        "hourly": [{"hour": h, "standard_tokens": b.standard_tokens, "requests": b.requests}
                   for h, b in sorted(hours.items())],
        "top_tenants": [b.out(tenant=t) for (t,), b in top(tenants)],
        "top_agents": [b.out(tenant=t, agent=a) for (t, a), b in top(agents)],
    }


def latest_release(release_dir: Path) -> dict[str, Any] | None:
    """The ``release.json`` of the latest ``YYYY-MM`` folder under ``release_dir`` that has
    one (as ``ciyuan report`` writes them), or None."""
    if not release_dir.is_dir():
        return None
    months = sorted((p.name for p in release_dir.iterdir() if _MONTH.fullmatch(p.name)),
                    reverse=True)
    for month in months:
        path = release_dir / month / "release.json"  # the layout of ciyuan.stats.outputs
        if path.is_file():  # written beside its name and renamed over it: never half a file
            release: dict[str, Any] = json.loads(path.read_text("utf-8"))
            return release
    return None


BudgetReader = Callable[[dt.datetime], list[dict[str, Any]]]


def tenant_budgets(billing: Billing, tenants: Callable[[], list[str]]) -> BudgetReader:
    """How full each tenant's own budgets are, read as ``ciyuan budgets show --tenant T``
    does (``Billing.status``); the levels inside a tenant show in that command."""

    def read(now: dt.datetime) -> list[dict[str, Any]]:
        out = []
        for tenant in tenants()[:MAX_BUDGET_TENANTS]:
            for s in billing.status(Scope(tenant), now):
                used = s.spent_nano + s.reserved_nano
                out.append({"scope": s.level.path, "period": s.period.key,
                            "currency": s.currency, "limit": money_text(s.limit_nano, s.currency),
                            "spent": money_text(s.spent_nano, s.currency),
                            "reserved": money_text(s.reserved_nano, s.currency),
                            "fill": round(used / s.limit_nano, 4) if s.limit_nano > 0
                            else (1.0 if used > 0 else 0.0)})
        return out

    return read


class StoreDashboardData:
    """The dashboard's figures from the stores a gateway process already holds.

    ``live()`` is computed at most once per ``cache_s`` seconds, however many pages poll.
    """

    def __init__(self, usage: UsageStore, budgets: BudgetReader, release_dir: Path,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC), *,
                 cache_s: float = 2.0) -> None:
        self._usage, self._budgets, self._release_dir, self._now = (
            usage, budgets, release_dir, now)
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None

    def live(self) -> dict[str, Any]:
        with self._lock:  # one computation at a time; the pages waiting get its result
            if self._cached and time.monotonic() - self._cached[0] < self._cache_s:
                return self._cached[1]
            now = self._now().astimezone(dt.UTC)
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            records = self._usage.query(midnight, now + dt.timedelta(microseconds=1))
            data = {**summarize_today(records, now), "budgets": self._budgets(now)}
            self._cached = (time.monotonic(), data)
            return data

    def latest_release(self) -> dict[str, Any] | None:
        return latest_release(self._release_dir)


def _refusal(request: Request, admin_token: str | None) -> Response | None:
    """None when the caller may read the dashboard's data, else the refusal (the admin API's
    rule and error codes, docs/errors.md)."""
    if not admin_token:
        return JSONResponse({"error": {"code": AdminDisabledError.code, "message":
                             "the dashboard's data is disabled: set CIYUAN_ADMIN_TOKEN (or "
                             "ciyuan.toml [admin] token) on the server, restart it and open "
                             "/dashboard#token=<token>"}}, status_code=403)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"),
                                                          admin_token.encode("utf-8")):
        return None
    return JSONResponse({"error": {"code": AdminUnauthorizedError.code, "message":
                         "open the dashboard as /dashboard#token=<CIYUAN_ADMIN_TOKEN>"}},
                        status_code=401, headers={"WWW-Authenticate": "Bearer"})


def _asset(name: str) -> str:
    return resources.files("ciyuan.web").joinpath("static", name).read_text("utf-8")


def dashboard_routes(data: DashboardData, admin_token: str | None) -> list[BaseRoute]:
    """``/dashboard``, its static files and its two JSON routes."""

    async def page(request: Request) -> Response:
        return Response(_asset("dashboard.html"), media_type="text/html; charset=utf-8",
                        headers=_PAGE_HEADERS)

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:  # only the shipped files: no path ever reaches the disk
            return JSONResponse({"error": {"code": "not-found", "message":
                                 f"no dashboard file {name!r}"}}, status_code=404)
        return Response(_asset(name), media_type=STATIC_FILES[name],
                        headers={"X-Content-Type-Options": "nosniff"})

    def json_route(read: Callable[[], object]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            refused = _refusal(request, admin_token)
            return refused or JSONResponse(await run_in_threadpool(read),
                                           headers={"Cache-Control": "no-store"})
        return endpoint

    return [Route("/dashboard", page, methods=["GET"]),
            Route("/dashboard/static/{name}", static, methods=["GET"]),
            Route("/dashboard/api/live", json_route(data.live), methods=["GET"]),
            Route("/dashboard/api/release", json_route(data.latest_release), methods=["GET"])]
