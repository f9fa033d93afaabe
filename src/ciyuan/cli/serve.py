"""``ciyuan serve``: the metering gateway."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ciyuan.cli.context import App, handle_errors, pass_app
from ciyuan.gateway.server import ServeOptions, serve
from ciyuan.gateway.upstream import parse_upstream_flag

__all__ = ["serve_command"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one; the 'listening on' line says which).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Worker processes sharing the socket (for PostgreSQL; on SQLite a "
                   "second adds little: the file has a single writer).")
@click.option("--upstream", "upstreams", multiple=True, metavar="NAME=URL",
              help="An OpenAI-compatible upstream whose GET /models lists the models to serve "
                   "(repeatable), e.g. sim=http://127.0.0.1:8001.")
@click.option("--currency", default="USD", show_default=True,
              help="Currency calls are priced and budgets held in.")
@click.option("--release-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("releases"), show_default=True,
              help="Where `ciyuan report` writes releases; /dashboard shows the latest.")
@click.option("--simulated-time", is_flag=True,
              help="Demos and load tests only: run each call at the instant its "
                   "X-Ciyuan-Simulated-Time header names (never for real billing).")
@pass_app
@handle_errors
def serve_command(app: App, host: str, port: int, workers: int, upstreams: tuple[str, ...],
                  currency: str, release_dir: Path, simulated_time: bool) -> None:
    """Run the metering gateway: OpenAI- and Anthropic-compatible /v1, admin API under /api,
    /metrics, /healthz and the live dashboard at /dashboard.

    Every call is authenticated with a ciyuan key, held against budgets, measured, rated,
    settled in the ledger, written down exactly once and receipted (X-Ciyuan-Receipt).

    \b
    Examples:
      ciyuan sim-provider --port 8001 &
      ciyuan serve --upstream sim=http://127.0.0.1:8001
      ciyuan --db postgresql://postgres@127.0.0.1/test serve --workers 2 --upstream ...
    """
    options = ServeOptions(host=host, port=port, workers=workers, currency=currency.upper(),
                           upstreams=tuple(parse_upstream_flag(u) for u in upstreams),
                           env=dict(os.environ), simulated_time=simulated_time,
                           release_dir=release_dir)
    serve(app.settings, options, announce=[
        lambda bound: click.echo(f"listening on http://{host}:{bound}", nl=True),
        lambda bound: click.echo(f"dashboard: http://{host}:{bound}/dashboard", err=True)])
