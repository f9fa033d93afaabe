"""``ciyuan receipt …``: check receipts offline, and show the public key that verifies them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ciyuan.cli.context import App, emit_json, handle_errors, pass_app
from ciyuan.core.money import format_amount
from ciyuan.receipt import (
    Receipt,
    ReceiptKeyError,
    ReceiptPublicKey,
    default_key_path,
    load_or_create_signer,
    load_public_key,
    verify,
    verify_chain,
)

__all__ = ["receipt_group"]

#: Bound on a file of receipts for verify-chain: 100,000 receipts of ~1 KB.
_MAX_CHAIN_FILE_BYTES = 128 * 1024 * 1024


def receipt_json(r: Receipt) -> dict[str, Any]:
    return {"record_id": r.record_id, "tenant": r.tenant, "seq": r.seq, "model": r.model,
            "issued_at": r.issued_at.isoformat(), "key_id": r.key_id,
            "currency": r.currency, "total": format_amount(r.total),
            "charges": {k: format_amount(v) for k, v in r.charges.items()},
            "native": dict(r.native), "standard": dict(r.standard),
            "price_book_version": r.price_book_version, "request_sha256": r.request_sha256,
            "response_sha256": r.response_sha256, "prev_sha256": r.prev_sha256,
            "sha256": r.sha256}


def _public_key(app: App, path: str | None) -> ReceiptPublicKey:
    if path is not None:
        return load_public_key(Path(path))
    local = default_key_path(app.settings)
    if not local.exists():
        raise ReceiptKeyError(
            f"no --public-key given and no signing key at {local}: save the gateway's key "
            "from GET /api/receipts/public-key (field public_key_pem) and pass --public-key FILE")
    return load_public_key(local)


def _token(text: str) -> str:
    """RECEIPT as given: the token itself, ``-`` for stdin, or ``@FILE``."""
    if text == "-":
        return sys.stdin.read(8192).strip()
    if text.startswith("@"):
        return Path(text[1:]).read_text("ascii", errors="replace")[:8192].strip()
    return text.strip()


@click.group("receipt")
def receipt_group() -> None:
    """Verify signed receipts (the X-Ciyuan-Receipt header) offline."""


@receipt_group.command("verify")
@click.argument("receipt")
@click.option("--public-key", "key_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="PEM public key (default: the local signing key's public half).")
@click.option("--body", "body_path", metavar="FILE", type=click.File("rb"),
              help="The response body as received; its SHA-256 must match.")
@click.option("--request-body", "request_path", metavar="FILE", type=click.File("rb"),
              help="The request body as sent; its SHA-256 must match.")
@click.option("--json", "as_json", is_flag=True, help="Print the verified receipt as JSON.")
@pass_app
@handle_errors
def receipt_verify(app: App, receipt: str, key_path: str | None, body_path: Any,
                   request_path: Any, as_json: bool) -> None:
    """Check RECEIPT (the header value, `-` for stdin or @FILE): its Ed25519 signature and,
    when given, the bodies' SHA-256. Exits 0 when valid, 1 with the reason when not.

    \b
    Examples:
      ciyuan receipt verify --public-key gateway.pem --body response.json "$RECEIPT"
      curl -s -D headers.txt -o body.json ... ; ciyuan receipt verify --body body.json @r.txt
    """
    body = body_path.read() if body_path is not None else None
    request_body = request_path.read() if request_path is not None else None
    checked = verify(_token(receipt), _public_key(app, key_path), body,
                     request_body=request_body)
    bodies = [name for name, given in (("response body", body), ("request body",
                                                                  request_body)) if given]
    if as_json:
        emit_json({"valid": True, "bodies_checked": bodies, "receipt": receipt_json(checked)})
        return
    click.echo(f"valid receipt: tenant {checked.tenant} #{checked.seq}, record "
               f"{checked.record_id}, model {checked.model}, {checked.currency} "
               f"{format_amount(checked.total)}, issued {checked.issued_at.isoformat()} by key "
               f"{checked.key_id}" + (f"; {' and '.join(bodies)} "
                                      f"{'match' if len(bodies) > 1 else 'matches'}"
                                      if bodies else ""))


@receipt_group.command("verify-chain")
@click.argument("file", type=click.File("r", encoding="ascii", errors="replace"))
@click.option("--public-key", "key_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="PEM public key (default: the local signing key's public half).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
@handle_errors
def receipt_verify_chain(app: App, file: Any, key_path: str | None, as_json: bool) -> None:
    """Check a tenant's receipts in FILE (one per line, in order): every signature, and that
    they form one chain with nothing missing, reordered or altered."""
    key = _public_key(app, key_path)
    tokens = [line.strip() for line in file.read(_MAX_CHAIN_FILE_BYTES).splitlines()
              if line.strip()]
    report = verify_chain(verify(token, key) for token in tokens)
    if as_json:
        emit_json({"valid": True, "tenant": report.tenant, "count": report.count,
                   "first_seq": report.first_seq, "last_seq": report.head.seq,
                   "head_sha256": report.head.sha256})
        return
    click.echo(f"valid chain: tenant {report.tenant}, {report.count} receipts, seq "
               f"{report.first_seq}..{report.head.seq}, head {report.head.sha256}")


@receipt_group.command("public-key")
@click.option("--json", "as_json", is_flag=True, help="Print key id and PEM as JSON.")
@pass_app
@handle_errors
def receipt_public_key(app: App, as_json: bool) -> None:
    """Print the public key that verifies this installation's receipts (PEM). The signing
    key is made on first use, next to the SQLite database or at CIYUAN_RECEIPT_KEY."""
    key = load_or_create_signer(default_key_path(app.settings)).public_key
    if as_json:
        emit_json({"algorithm": "Ed25519", "key_id": key.key_id, "public_key_pem": key.pem})
    else:
        click.echo(key.pem, nl=False)
