"""The signing key file: made once with mode 0600, shared by concurrent workers."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from ciyuan.receipt import (
    ReceiptKeyError,
    ReceiptSigner,
    default_key_path,
    load_or_create_signer,
    load_public_key,
)
from ciyuan.settings import Settings


def test_the_key_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ciyuan.db.receipt-key"
    first = load_or_create_signer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_signer(path).key_id == first.key_id
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_workers_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "shared.receipt-key"
    ids: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        key_id = load_or_create_signer(path).key_id
        with lock:
            ids.append(key_id)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 8


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    load_or_create_signer(path)
    os.chmod(path, 0o644)
    with pytest.raises(ReceiptKeyError, match="chmod 600"):
        load_or_create_signer(path)


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(b"not a key")
    os.chmod(path, 0o600)
    with pytest.raises(ReceiptKeyError, match="Ed25519"):
        load_or_create_signer(path)
    with pytest.raises(ReceiptKeyError, match="public-key"):
        load_public_key(path)
    with pytest.raises(ReceiptKeyError, match="cannot read"):
        load_public_key(tmp_path / "missing.pem")


def test_public_keys_load_from_public_or_private_pem(tmp_path: Path) -> None:
    signer = ReceiptSigner.generate()
    public = tmp_path / "public.pem"
    public.write_text(signer.public_key.pem)
    private = tmp_path / "private.pem"
    private.write_bytes(signer.private_pem())
    assert load_public_key(public).key_id == signer.key_id
    assert load_public_key(private).key_id == signer.key_id
    assert len(signer.key_id) == 16 and "PRIVATE" not in repr(signer)


def test_the_default_key_lives_next_to_the_sqlite_database() -> None:
    assert default_key_path(Settings(db_url="sqlite:///./data/ciyuan.db")) == Path(
        "data/ciyuan.db.receipt-key")
    assert default_key_path(Settings(db_url="sqlite:////var/lib/c.db")) == Path(
        "/var/lib/c.db.receipt-key")
    assert default_key_path(Settings(db_url="postgresql://u@h/db")) == Path(
        "ciyuan.receipt-key")
    assert default_key_path(Settings(receipt_key_path=Path("/etc/k"))) == Path("/etc/k")
