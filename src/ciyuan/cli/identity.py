"""``ciyuan tenants …`` and ``ciyuan keys …``: manage tenants and API keys in ``--db``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.table import Column, Table

from ciyuan.admin.directory import Directory
from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.identity import SECTORS, ApiKey, Tenant
from ciyuan.store.identity import open_identity_store

__all__ = ["keys_group", "tenants_group"]


@contextmanager
def _directory(app: App) -> Iterator[Directory]:
    store = open_identity_store(app.settings.db_url)
    try:
        yield Directory(store)
    finally:
        store.close()


def tenant_json(t: Tenant) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "sector": t.sector, "region": t.region,
            "created_at": t.created_at.isoformat()}


def key_json(k: ApiKey) -> dict[str, Any]:
    """A key as JSON: never its secret, nor the secret's hash."""
    return {"id": k.id, "tenant": k.tenant, "prefix": k.prefix, "name": k.name, "team": k.team,
            "agent": k.agent, "models": list(k.models), "rate_limit_rpm": k.rate_limit_rpm,
            "rate_limit_tpm": k.rate_limit_tpm, "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            "active": k.active}


@click.group("tenants")
def tenants_group() -> None:
    """Create and list tenants (the organisations that use the gateway)."""


@tenants_group.command("create")
@click.argument("name")
@click.option("--id", "tenant_id", metavar="SLUG", help="The tenant id (default: made from "
              "NAME, e.g. 'Acme Research' → acme-research).")
@click.option("--sector", type=click.Choice(SECTORS), default="other", show_default=True,
              help="Sector, for the statistical release.")
@click.option("--region", default="", metavar="R", help="Region code, e.g. CN, CN-GD, EU.")
@click.option("--json", "as_json", is_flag=True, help="Print the tenant as JSON.")
@pass_app
@handle_errors
def tenants_create(app: App, name: str, tenant_id: str | None, sector: str, region: str,
                   as_json: bool) -> None:
    """Create a tenant called NAME.

    \b
    Examples:
      ciyuan tenants create "Acme Research" --sector software --region CN
      ciyuan tenants create 词元科技 --id ciyuan-tech --json
    """
    with _directory(app) as directory:
        tenant = directory.create_tenant(name, tenant_id=tenant_id, sector=sector,
                                         region=region)
    if as_json:
        emit_json(tenant_json(tenant))
    else:
        click.echo(f"created tenant {tenant.id} ({tenant.name}, {tenant.sector})")


@tenants_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@pass_app
@handle_errors
def tenants_list(app: App, as_json: bool) -> None:
    """List the tenants."""
    with _directory(app) as directory:
        tenants = directory.tenants()
    if as_json:
        emit_json([tenant_json(t) for t in tenants])
        return
    table = Table("id", "name", "sector", "region", "created")
    for t in tenants:
        table.add_row(t.id, t.name, t.sector, t.region or "-", f"{t.created_at:%Y-%m-%d}")
    app.console.print(table)


@click.group("keys")
def keys_group() -> None:
    """Create, list and revoke API keys (stored as SHA-256 hashes; shown once)."""


def _split_models(value: str | None) -> list[str]:
    return [m.strip() for m in (value or "").split(",") if m.strip()]


@keys_group.command("create")
@click.option("--tenant", "tenant_ref", required=True, metavar="T", help="Tenant id or name.")
@click.option("--agent", metavar="A", help="Agent id the key belongs to (made if new).")
@click.option("--team", metavar="T", help="Team id (made if new).")
@click.option("--models", metavar="M1,M2", help="Models the key may call (default: all).")
@click.option("--rpm", type=int, metavar="N", help="Requests per minute limit.")
@click.option("--tpm", type=int, metavar="N", help="Tokens per minute limit.")
@click.option("--name", default="", metavar="LABEL", help="A label for lists.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (it includes the key).")
@pass_app
@handle_errors
def keys_create(app: App, tenant_ref: str, agent: str | None, team: str | None,
                models: str | None, rpm: int | None, tpm: int | None, name: str,
                as_json: bool) -> None:
    """Create an API key. The key is printed once and stored only as a hash.

    \b
    Examples:
      ciyuan keys create --tenant acme-research --agent support-bot
      ciyuan keys create --tenant acme-research --models gpt-4o-mini,deepseek-chat --rpm 60 --json
    """
    with _directory(app) as directory:
        tenant = directory.find_tenant(tenant_ref)
        issued = directory.issue_key(tenant.id, name=name, team=team, agent=agent,
                                     models=_split_models(models), rate_limit_rpm=rpm,
                                     rate_limit_tpm=tpm)
    if as_json:
        emit_json({**key_json(issued.key), "key": issued.secret})
        return
    click.echo(f"created API key {issued.key.id} for tenant {tenant.id}; it is shown only now, "
               "store it safely:", err=True)
    click.echo(issued.secret)


@keys_group.command("list")
@click.option("--tenant", "tenant_ref", required=True, metavar="T", help="Tenant id or name.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (never the secrets).")
@pass_app
@handle_errors
def keys_list(app: App, tenant_ref: str, as_json: bool) -> None:
    """List a tenant's API keys (revoked ones too); secrets are never shown."""
    with _directory(app) as directory:
        tenant = directory.find_tenant(tenant_ref)
        keys: list[ApiKey] = []
        while page := directory.keys(tenant.id, after=keys[-1].id if keys else ""):
            keys += page
    if as_json:
        emit_json([key_json(k) for k in keys])
        return
    table = Table(Column("key", no_wrap=True), "agent", "team", "models", "rpm", "tpm",
                  Column("status", no_wrap=True))
    for k in keys:  # the prefix cy-<id>-xxxx names the key; `keys revoke` accepts it
        table.add_row(k.prefix + "…", k.agent or "-", k.team or "-",
                      ",".join(k.models) or "all", str(k.rate_limit_rpm or "-"),
                      str(k.rate_limit_tpm or "-"),
                      "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d}")
    app.console.print(table)


@keys_group.command("revoke")
@click.argument("key_id")
@click.option("--tenant", "tenant_ref", metavar="T", help="Only if the key is this tenant's.")
@click.option("--json", "as_json", is_flag=True, help="Print the revoked key as JSON.")
@pass_app
@handle_errors
def keys_revoke(app: App, key_id: str, tenant_ref: str | None, as_json: bool) -> None:
    """Revoke the API key KEY_ID (the 12 characters after 'cy-'). Gateways refuse it within
    their key-cache time (5 s)."""
    if key_id.startswith("cy-"):  # a pasted key or prefix: its id is the part after cy-
        key_id = key_id.split("-")[1]
    with _directory(app) as directory:
        tenant_id = directory.find_tenant(tenant_ref).id if tenant_ref else None
        key = directory.revoke_key(key_id, tenant_id=tenant_id)
    if as_json:
        emit_json(key_json(key))
    else:
        assert key.revoked_at is not None
        click.echo(f"revoked API key {key.id} of tenant {key.tenant} at "
                   f"{key.revoked_at.isoformat()}")
