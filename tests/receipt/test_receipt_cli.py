"""`ciyuan receipt verify` checks a receipt offline: exit 0 when valid, 1 with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from receipt_samples import REQUEST, RESPONSE, draft

from ciyuan.cli.main import cli
from ciyuan.receipt import (
    InMemoryChainStore,
    ReceiptIssuer,
    ReceiptSigner,
    load_or_create_signer,
)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "response.json").write_bytes(RESPONSE)
    (tmp_path / "request.json").write_bytes(REQUEST)
    return tmp_path


@pytest.fixture
def gateway_signer(workdir: Path) -> ReceiptSigner:
    """The signer of a gateway whose database is workdir/ciyuan.db."""
    return load_or_create_signer(workdir / "ciyuan.db.receipt-key")


def _run(workdir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{workdir / 'ciyuan.db'}", *args])
    return result.exit_code, result.stdout, result.stderr


def _issue(signer: ReceiptSigner, n: int = 1) -> list[str]:
    issuer = ReceiptIssuer(signer, InMemoryChainStore())
    return [issuer.issue(draft(f"rec-{i}")).token for i in range(n)]


def test_a_valid_receipt_is_accepted(workdir: Path, gateway_signer: ReceiptSigner) -> None:
    (token,) = _issue(gateway_signer)
    pem = workdir / "gateway.pem"
    pem.write_text(gateway_signer.public_key.pem)
    code, out, _ = _run(workdir, "receipt", "verify", "--public-key", str(pem), "--body",
                        str(workdir / "response.json"), "--request-body",
                        str(workdir / "request.json"), token)
    assert code == 0, out
    assert "valid receipt: tenant acme #1" in out and "response body and request body match" in out
    code, out, _ = _run(workdir, "receipt", "verify", "--json", token)  # the local key
    assert code == 0 and json.loads(out)["receipt"]["total"] == "0.0000123"


def test_one_changed_byte_of_the_body_is_rejected(workdir: Path,
                                                  gateway_signer: ReceiptSigner) -> None:
    (token,) = _issue(gateway_signer)
    changed = bytearray(RESPONSE)
    changed[-3] ^= 0x20
    (workdir / "changed.json").write_bytes(bytes(changed))
    code, _, err = _run(workdir, "receipt", "verify", "--body", str(workdir / "changed.json"),
                        token)
    assert code == 1 and "error [receipt-body-mismatch]" in err


def test_a_tampered_receipt_is_rejected(workdir: Path, gateway_signer: ReceiptSigner) -> None:
    (token,) = _issue(gateway_signer)
    middle = len(token) // 3
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    code, _, err = _run(workdir, "receipt", "verify", tampered)
    assert code == 1 and ("receipt-signature-invalid" in err or "receipt-malformed" in err)


def test_a_receipt_of_another_key_is_rejected(workdir: Path,
                                              gateway_signer: ReceiptSigner) -> None:
    (token,) = _issue(ReceiptSigner.generate())
    code, _, err = _run(workdir, "receipt", "verify", token)
    assert code == 1 and "error [receipt-signature-invalid]" in err
    assert gateway_signer.key_id in err


def test_a_receipt_can_be_read_from_a_file(workdir: Path, gateway_signer: ReceiptSigner) -> None:
    (token,) = _issue(gateway_signer)
    (workdir / "r.txt").write_text(token + "\n")
    code, out, _ = _run(workdir, "receipt", "verify", f"@{workdir / 'r.txt'}")
    assert code == 0 and "valid receipt" in out


def test_without_any_key_the_message_says_where_to_get_one(tmp_path: Path) -> None:
    (token,) = _issue(ReceiptSigner.generate())
    code, _, err = _run(tmp_path, "receipt", "verify", token)
    assert code == 1 and "/api/receipts/public-key" in err


def test_verify_chain_and_public_key(workdir: Path, gateway_signer: ReceiptSigner) -> None:
    tokens = _issue(gateway_signer, 4)
    (workdir / "chain.txt").write_text("\n".join(tokens) + "\n")
    code, out, _ = _run(workdir, "receipt", "verify-chain", "--json", str(workdir / "chain.txt"))
    assert code == 0 and json.loads(out)["last_seq"] == 4
    (workdir / "gap.txt").write_text("\n".join(tokens[:1] + tokens[2:]))
    code, _, err = _run(workdir, "receipt", "verify-chain", str(workdir / "gap.txt"))
    assert code == 1 and "receipt-chain-broken" in err
    code, out, _ = _run(workdir, "receipt", "public-key", "--json")
    assert json.loads(out)["key_id"] == gateway_signer.key_id
