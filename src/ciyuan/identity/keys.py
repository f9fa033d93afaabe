"""API keys: the ``cy-<id>-<secret>`` format, issuing, hashing and authenticating.

A key is ``cy-`` + a 12-character base62 id + ``-`` + a 43-character base62 secret (32 random
bytes from ``secrets``). The id is not secret: it is shown in lists and names the key in the
store. The secret is shown once, when the key is made; only the SHA-256 of the whole key is
stored.

Why a fast hash is right here: the secret carries 256 random bits, so there is nothing for a
slow password hash (bcrypt, scrypt, Argon2) to protect — those stretch *low-entropy* human
passwords against guessing; guessing a 256-bit secret is infeasible at any hash speed. SHA-256
keeps authentication at about a microsecond per call (GitHub and Stripe tokens work the same
way).

``authenticate`` compares hashes with ``hmac.compare_digest`` (constant time), hashes even when
the id is unknown, and reports a revoked key only to a caller who holds its secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ciyuan.identity.errors import IdentityInputError, InvalidApiKeyError, RevokedApiKeyError
from ciyuan.identity.model import (
    ApiKey,
    Principal,
    check_models,
    check_name,
    check_rate_limit,
    check_slug,
)

__all__ = [
    "KEY_ID_CHARS",
    "KEY_PATTERN",
    "SECRET_BYTES",
    "SECRET_CHARS",
    "IssuedKey",
    "authenticate",
    "check_key_id",
    "hash_key",
    "issue_key",
    "key_id_of",
]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Random bytes in a secret: 256 bits, beyond guessing.
SECRET_BYTES = 32
#: Base62 digits of a 256-bit number: ceil(256 / log2(62)) = 43 (left-padded with "0").
SECRET_CHARS = 43
#: Base62 digits of a key id: about 71 random bits, so ids never collide in practice (the
#: store refuses a duplicate anyway).
KEY_ID_CHARS = 12
KEY_PATTERN = re.compile(rf"cy-([0-9A-Za-z]{{{KEY_ID_CHARS}}})-([0-9A-Za-z]{{{SECRET_CHARS}}})")
#: Characters of the secret shown in the prefix, so a user can tell keys apart.
_PREFIX_SECRET_CHARS = 4
_KEY_ID = re.compile(rf"[0-9A-Za-z]{{{KEY_ID_CHARS}}}")
#: Compared against when the id is unknown, so that path costs the same hash + compare.
_NO_KEY_SHA256 = "0" * 64


def _base62(data: bytes, width: int) -> str:
    number = int.from_bytes(data, "big") % 62**width
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    text = "".join(reversed(digits))
    assert len(text) <= width
    return text.rjust(width, "0")


def hash_key(presented: str) -> str:
    """SHA-256 (hex) of the whole key text: what the store keeps."""
    return hashlib.sha256(presented.encode("utf-8")).hexdigest()


def key_id_of(presented: str) -> str:
    """The id inside a presented key; ``InvalidApiKeyError`` if it is not a ciyuan key."""
    match = KEY_PATTERN.fullmatch(presented)
    if match is None:
        raise InvalidApiKeyError(
            "the API key is not a ciyuan key: keys look like cy-<12 characters>-<43 characters>; "
            "check for a truncated copy, or create one with `ciyuan keys create --tenant T`")
    return match.group(1)


def check_key_id(value: object) -> str:
    """``value`` if it is a key id (the 12 characters after ``cy-``)."""
    if not isinstance(value, str) or not _KEY_ID.fullmatch(value):
        raise IdentityInputError(
            f"{value!r} is not a key id: ids are the 12 characters after 'cy-' "
            "(`ciyuan keys list --tenant T` shows them)", field="key_id")
    return value


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its secret text: show ``secret`` once, store ``key``."""

    key: ApiKey
    secret: str

    def __repr__(self) -> str:  # never print the secret by accident
        return f"IssuedKey(key={self.key!r}, secret='{self.key.prefix}…')"


def issue_key(
    tenant: str,
    *,
    now: dt.datetime,
    name: str = "",
    team: str | None = None,
    agent: str | None = None,
    models: Sequence[str] = (),
    rate_limit_rpm: int | None = None,
    rate_limit_tpm: int | None = None,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> IssuedKey:
    """Make a new key for ``tenant`` (validated; nothing stored)."""
    check_slug(tenant, "tenant id")
    key_id = _base62(random_bytes(9), KEY_ID_CHARS)  # 72 random bits, reduced mod 62**12
    secret = _base62(random_bytes(SECRET_BYTES), SECRET_CHARS)
    text = f"cy-{key_id}-{secret}"
    key = ApiKey(
        id=key_id,
        tenant=tenant,
        prefix=f"cy-{key_id}-{secret[:_PREFIX_SECRET_CHARS]}",
        secret_sha256=hash_key(text),
        created_at=now,
        name=check_name(name, "key name") if name else "",
        team=team,
        agent=agent,
        models=check_models(list(models)),
        rate_limit_rpm=check_rate_limit(rate_limit_rpm, "rate_limit_rpm"),
        rate_limit_tpm=check_rate_limit(rate_limit_tpm, "rate_limit_tpm"),
    )
    return IssuedKey(key, text)


def authenticate(presented: str, lookup: Callable[[str], ApiKey | None]) -> Principal:
    """The principal of a presented key, or a typed error.

    ``lookup(key_id)`` returns the stored key or None (e.g. a store's ``key_by_id``). The
    secret is checked with a constant-time comparison of SHA-256 digests; a malformed key
    fails before any lookup (its shape is no secret). ``RevokedApiKeyError`` is raised only
    after the secret matched, so revocation status leaks to nobody but the key's holder.
    """
    key_id = key_id_of(presented)
    stored = lookup(key_id)
    digest = hash_key(presented)
    expected = stored.secret_sha256 if stored is not None else _NO_KEY_SHA256
    matched = hmac.compare_digest(expected.encode("ascii"), digest.encode("ascii"))
    if stored is None or not matched:
        raise InvalidApiKeyError(
            "the API key is not valid: check that it was copied whole, or create a new one "
            "with `ciyuan keys create --tenant T`", key_id=key_id)
    if stored.revoked_at is not None:
        raise RevokedApiKeyError(
            f"API key {key_id} was revoked at {stored.revoked_at.isoformat()}; create a new one "
            "with `ciyuan keys create --tenant T`", key_id=key_id)
    return stored.principal()
