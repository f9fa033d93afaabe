"""The receipt signing key: Ed25519, made on first run, kept in a PEM file with mode 0600.

Where the file is: ``Settings.receipt_key_path`` (``CIYUAN_RECEIPT_KEY``, ciyuan.toml
``[receipts] key``) if set, else next to the SQLite database (``<db>.receipt-key``), else
``./ciyuan.receipt-key`` for a PostgreSQL database. Every gateway worker and host that signs
for one database must read the same file, so that one public key verifies all receipts.

The key id (``kid``) is the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ciyuan.receipt.errors import ReceiptKeyError
from ciyuan.settings import Settings

__all__ = [
    "ReceiptPublicKey",
    "ReceiptSigner",
    "default_key_path",
    "load_or_create_signer",
    "load_public_key",
]

#: Bound on a key file read: a PEM Ed25519 key is about 120 bytes.
_MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReceiptPublicKey:
    """An Ed25519 public key that verifies receipts, with its id and PEM text."""

    key: Ed25519PublicKey

    @cached_property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @cached_property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    @property
    def pem(self) -> str:
        return self.key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def verifies(self, signature: bytes, payload: bytes) -> bool:
        try:
            self.key.verify(signature, payload)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class ReceiptSigner:
    """The private key that signs receipts (never leaves this process)."""

    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> ReceiptSigner:
        return cls(Ed25519PrivateKey.generate())

    @cached_property  # derived once: every receipt's signature names it
    def public_key(self) -> ReceiptPublicKey:
        return ReceiptPublicKey(self.key.public_key())

    @property
    def key_id(self) -> str:
        return self.public_key.key_id

    def sign(self, payload: bytes) -> bytes:
        return self.key.sign(payload)

    def private_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def __repr__(self) -> str:
        return f"ReceiptSigner(key_id={self.key_id!r})"


def default_key_path(settings: Settings) -> Path:
    """Where the signing key lives for these settings (see the module docstring)."""
    if settings.receipt_key_path is not None:
        return settings.receipt_key_path
    db = settings.db_url.removeprefix("sqlite:///")
    if db != settings.db_url and db not in ("", ":memory:"):
        return Path(db).with_name(Path(db).name + ".receipt-key")
    return Path("ciyuan.receipt-key")


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_MAX_KEY_FILE_BYTES)
    except OSError as exc:
        raise ReceiptKeyError(f"cannot read key file {path}: {exc.strerror}", path=str(path)) \
            from None


def _check_private_mode(path: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ReceiptKeyError(
            f"receipt signing key {path} is readable by others (mode {mode:o}); run "
            f"`chmod 600 {path}`", path=str(path))


def _load_signer(path: Path) -> ReceiptSigner:
    _check_private_mode(path)
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReceiptKeyError(
            f"{path} is not an unencrypted PEM Ed25519 private key; move it away and ciyuan "
            "makes a new one", path=str(path))
    return ReceiptSigner(key)


def load_or_create_signer(path: Path) -> ReceiptSigner:
    """The signer in ``path``, made there first if the file does not exist.

    Creation is safe when several workers start at once: the key is written to a private
    temporary file and hard-linked into place, which fails if another worker won; the
    loser then reads the winner's key.
    """
    if path.exists():
        return _load_signer(path)
    signer = ReceiptSigner.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(signer.private_pem())
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temp, path)
    except FileExistsError:
        return _load_signer(path)
    finally:
        temp.unlink(missing_ok=True)
    return signer


def load_public_key(path: Path) -> ReceiptPublicKey:
    """A public key from a PEM file: a public key, or a private key (its public half)."""
    data = _read(path)
    try:
        if b"PRIVATE KEY" in data:
            private = serialization.load_pem_private_key(data, password=None)
            public: object = private.public_key() if isinstance(private, Ed25519PrivateKey) \
                else None
        else:
            public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        public = None
    if not isinstance(public, Ed25519PublicKey):
        raise ReceiptKeyError(
            f"{path} is not a PEM Ed25519 key; get the gateway's public key from "
            "GET /api/receipts/public-key or `ciyuan receipt public-key`", path=str(path))
    return ReceiptPublicKey(public)
