"""``ciyuan serve``: build the gateway from settings and run it on uvicorn, N workers.

The parent binds the listening socket; each worker is a process of its own (stores are
opened after the fork) serving that socket. Everything a worker needs is rebuilt from the
same ``Settings`` and flags, so workers share nothing but the database.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.routing import BaseRoute

from ciyuan.core.clock import request_clock
from ciyuan.core.errors import ConfigError
from ciyuan.gateway.app import SimulatedTime, build_app
from ciyuan.gateway.metering import Gateway
from ciyuan.gateway.routing import Router
from ciyuan.gateway.upstream import Upstream, UpstreamConfig
from ciyuan.gateway.wiring import BillingBudgets, StoreIdentity, StoreReceipts
from ciyuan.settings import Settings
from ciyuan.store.group_sync import GroupSync
from ciyuan.store.open import sqlite_path
from ciyuan.store.sqlite_writer import SqliteWriter

__all__ = ["ServeOptions", "build_gateway", "serve", "upstream_configs"]

#: How long to wait for an upstream's GET /models at start.
DISCOVERY_TIMEOUT_S = 10.0
#: Most worker processes (each holds tokenizers: ~150 MB).
MAX_WORKERS = 32


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    upstreams: tuple[UpstreamConfig, ...] = ()
    currency: str = "USD"
    env: Mapping[str, str] = field(default_factory=dict)
    simulated_time: bool = False  # demos and load tests only: see ciyuan.core.clock
    release_dir: Path = Path("releases")  # where the dashboard finds the latest release


def upstream_configs(settings: Settings, env: Mapping[str, str]) -> list[UpstreamConfig]:
    """``[upstreams.NAME]`` of ciyuan.toml."""
    out = []
    for name, raw in settings.section("upstreams").items():
        if not isinstance(raw, Mapping) or "base_url" not in raw:
            raise ConfigError(f"ciyuan.toml [upstreams.{name}] needs base_url = \"https://…/v1\"",
                              field=f"upstreams.{name}.base_url")
        key = str(raw.get("api_key", ""))
        if "api_key_env" in raw:
            key = env.get(str(raw["api_key_env"]), "")
        models = raw.get("models", {})
        served = ({m: m for m in models} if isinstance(models, list)
                  else {str(k): str(v) for k, v in models.items()})
        out.append(UpstreamConfig(
            name=name, base_url=str(raw["base_url"]).rstrip("/"),
            api_style="anthropic" if raw.get("api_style") == "anthropic" else "openai",
            api_key=key, models=served,
            price_as={str(k): str(v) for k, v in raw.get("price_as", {}).items()}))
    return out


def _discover(config: UpstreamConfig) -> UpstreamConfig:
    """Fill the served models of an upstream from its ``GET /models``."""
    if config.models:
        return config
    headers = {"authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    try:
        response = httpx.get(f"{config.base_url}/models", headers=headers,
                             timeout=DISCOVERY_TIMEOUT_S)
        response.raise_for_status()
        cards: list[Any] = response.json().get("data", [])
    except (httpx.HTTPError, ValueError) as exc:
        raise ConfigError(f"upstream {config.name!r} at {config.base_url}: GET /models failed "
                          f"({exc}); is it running? Or list its models in ciyuan.toml",
                          field="upstream") from None
    served = {c["id"]: c["id"] for c in cards if isinstance(c, dict) and "id" in c}
    basis = {c["id"]: c["ciyuan"]["basis"] for c in cards
             if isinstance(c, dict) and isinstance(c.get("ciyuan"), dict)
             and "basis" in c["ciyuan"]}
    return UpstreamConfig(config.name, config.base_url, config.api_style, config.api_key,
                          served, {**basis, **config.price_as})


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_gateway(settings: Settings, options: ServeOptions
                  ) -> tuple[Gateway, Any, list[BaseRoute]]:
    """The gateway, its admin app and its dashboard routes, with stores opened once for this
    process and shared between them."""
    from ciyuan.admin.app import build_admin_app
    from ciyuan.admin.directory import Directory
    from ciyuan.admin.services import AdminServices
    from ciyuan.billing import Billing
    from ciyuan.catalog.models import load_catalog
    from ciyuan.measure.measurer import Measurer
    from ciyuan.measure.registry import TokenizerRegistry, user_vocabularies
    from ciyuan.price.api import pricer_from_config
    from ciyuan.receipt.issuer import ReceiptIssuer
    from ciyuan.receipt.keys import default_key_path, load_or_create_signer
    from ciyuan.store.identity import open_identity_store, open_receipt_chain_store
    from ciyuan.store.open import open_ledger_store
    from ciyuan.store.usage import open_usage_store
    from ciyuan.web.dashboard import StoreDashboardData, dashboard_routes, tenant_budgets

    catalog = load_catalog(settings.config)
    registry = TokenizerRegistry()
    for spec in user_vocabularies(settings.section("tokenizers")):
        registry.register(spec)
    measurer = Measurer(catalog, registry, threads=1)
    router = Router(catalog)
    for config in [*upstream_configs(settings, options.env), *options.upstreams]:
        config = _discover(config)
        router.add(Upstream(config), config.models, config.price_as)
    if not router.models():
        raise ConfigError("no upstream serves any model: add --upstream NAME=URL or "
                          "[upstreams.NAME] to ciyuan.toml", field="upstream")
    signer = load_or_create_signer(default_key_path(settings))
    # on a SQLite file the stores a call writes share one writer connection, a transaction
    # per loop turn and one group commit (store.sqlite_writer, store.group_sync)
    writer, group = _group_sync(settings.db_url, per_turn=options.workers == 1)
    durable_at_commit = group is None
    issuer = ReceiptIssuer(signer, open_receipt_chain_store(
        settings.db_url, durable_at_commit=durable_at_commit, writer=writer))
    now = request_clock if options.simulated_time else _utc_now
    identity = open_identity_store(settings.db_url)
    billing = Billing(open_ledger_store(settings.db_url, durable_at_commit=durable_at_commit,
                                        writer=writer), now=now)
    usage = open_usage_store(settings.db_url, durable_at_commit=durable_at_commit,
                             writer=writer)
    gateway = Gateway(
        measurer=measurer, pricer=pricer_from_config(settings.config, catalog), router=router,
        identity=StoreIdentity(identity, options.currency), budgets=BillingBudgets(billing),
        usage=usage, receipts=StoreReceipts(issuer), now=now)
    if group is not None:
        gateway.durable = group.wait
    directory = Directory(identity)
    services = AdminServices(directory, admin_token=settings.admin_token,
                             receipt_public_key=signer.public_key)
    dashboard = StoreDashboardData(
        usage, tenant_budgets(billing, lambda: [t.id for t in directory.tenants()]),
        options.release_dir, now)
    return (gateway, build_admin_app(services, prefix=""),
            [*dashboard_routes(dashboard, settings.admin_token), *_outcomes(gateway, settings)])


def _group_sync(db_url: str, *, per_turn: bool) -> tuple[SqliteWriter | None, GroupSync | None]:
    """The shared writer and group commit of a SQLite database file (None for PostgreSQL
    and in-memory databases, whose commits need no later wait); a transaction per loop turn
    only for a single worker (several would take turns holding the file's one write lock)."""
    if not db_url.lower().startswith("sqlite:"):
        return None, None
    path = sqlite_path(db_url)
    if path == ":memory:":
        return None, None
    writer = SqliteWriter(path, durable_at_commit=False)
    return writer, GroupSync(path, writer, per_turn=per_turn)


def _outcomes(gateway: Gateway, settings: Settings) -> list[BaseRoute]:
    """``/v1/outcomes`` over the outcome store, linked to the gateway's usage records."""
    from ciyuan.gateway.outcomes import OutcomeDesk, outcome_routes
    from ciyuan.store.outcomes import open_outcome_store
    from ciyuan.store.usage import TaskRecords

    assert isinstance(gateway.usage, TaskRecords), "every usage store finds records by task"
    return outcome_routes(OutcomeDesk(
        authenticate=gateway.authenticate, usage=gateway.usage, tasks=gateway.usage,
        outcomes=open_outcome_store(settings.db_url), now=gateway.now))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send this worker SIGTERM when the parent dies, even by SIGKILL, so no
    worker outlives its server (a no-op elsewhere). A parent that died before the request
    was made sends nothing: then the worker is already an orphan, and leaves at once."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:
        raise SystemExit(0)


def _forked_worker(settings: Settings, options: ServeOptions, sock: socket.socket,
                   parent: int) -> None:
    _die_with_parent(parent)
    _worker(settings, options, sock)


def _worker(settings: Settings, options: ServeOptions, sock: socket.socket) -> None:
    gateway, admin, dashboard = build_gateway(settings, options)
    app: Any = build_app(gateway, admin, dashboard)
    from ciyuan.gateway.judging import attach_live_judge

    attach_live_judge(gateway, app, settings, options.env)  # off unless ciyuan.toml says so
    if options.simulated_time:
        app = SimulatedTime(app)
    config = uvicorn.Config(app, loop="uvloop", http="httptools", log_level="warning",
                            access_log=False, lifespan="off")
    _Server(config, list(gateway.router.upstreams())).run(sockets=[sock])


class _Server(uvicorn.Server):
    """uvicorn's server that closes the upstream connection pools after its graceful
    shutdown (aiohttp warns of a pool left open at exit)."""

    def __init__(self, config: uvicorn.Config, upstreams: Sequence[Upstream]) -> None:
        super().__init__(config)
        self._upstreams = upstreams

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().shutdown(sockets=sockets)
        finally:
            for upstream in self._upstreams:
                await upstream.aclose()


def serve(settings: Settings, options: ServeOptions,
          announce: Sequence[Any] = ()) -> None:
    """Bind, announce, and serve until interrupted."""
    if not 1 <= options.workers <= MAX_WORKERS:
        raise ConfigError(f"--workers must be 1..{MAX_WORKERS}", field="workers")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((options.host, options.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    for callback in announce:
        callback(sock.getsockname()[1])
    if options.workers == 1:
        _worker(settings, options, sock)
        return
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_forked_worker,
                               args=(settings, options, sock, os.getpid()), daemon=True)
                for _ in range(options.workers)]

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)  # runs the finally below: the workers are stopped, not orphaned

    signal.signal(signal.SIGTERM, stop)
    for process in workers:
        process.start()
    try:
        for process in workers:
            process.join()
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
