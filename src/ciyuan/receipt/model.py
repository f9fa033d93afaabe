"""The ``Receipt`` value and its canonical JSON payload (what is signed and hashed).

The payload is JSON with sorted keys, no whitespace and ASCII only (non-ASCII as ``\\uXXXX``),
so the same receipt always gives the same bytes, and its SHA-256 (``receipt_sha256``) is what
the next receipt of the tenant names as ``prev``. Money is a decimal string, never a number.
Field names in the payload are short because the payload rides in an HTTP header::

    {"at": "2026-11-22T08:00:00.000000Z", "charge": {"currency": "USD", "lines": {...},
     "total": "0.000123"}, "id": "<usage record id>", "kid": "<signing key id>",
     "model": "gpt-4o-mini", "native": {"input_tokens": 12, ...}, "pb": "<price-book version>",
     "prev": "<sha256 of the previous receipt>", "req": "<sha256 of the request body>",
     "res": "<sha256 of the response body>", "seq": 7, "standard": {...}, "tenant": "acme",
     "v": 1}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from ciyuan.core.money import format_amount
from ciyuan.receipt.errors import ReceiptMalformedError

__all__ = [
    "GENESIS_SHA256",
    "RECEIPT_VERSION",
    "Receipt",
    "canonical_payload",
    "parse_payload",
    "receipt_sha256",
    "sha256_hex",
]

RECEIPT_VERSION = 1
#: ``prev`` of a tenant's first receipt.
GENESIS_SHA256 = "0" * 64
#: Bound on count and charge categories per receipt (Usage has 14 fields).
MAX_CATEGORIES = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TEXT = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
_OPTIONAL_TEXT = re.compile(r"[^\x00-\x1f\x7f]{0,200}")
_CATEGORY = re.compile(r"[a-z0-9_]{1,40}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bad(field_name: str, value: object, rule: str) -> ReceiptMalformedError:
    return ReceiptMalformedError(f"receipt field {field_name} = {value!r} is not valid: {rule}",
                                 field=field_name)


def _match(pattern: re.Pattern[str], value: object, field_name: str, rule: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _bad(field_name, value, rule)


def _check_counts(counts: Mapping[str, object], field_name: str) -> None:
    if not isinstance(counts, Mapping) or len(counts) > MAX_CATEGORIES:
        raise _bad(field_name, counts, f"a mapping of at most {MAX_CATEGORIES} categories")
    for name, value in counts.items():
        _match(_CATEGORY, name, field_name, "category names are [a-z0-9_]{1,40}")
        if type(value) is not int or value < 0:
            raise _bad(f"{field_name}.{name}", value, "counts are whole numbers ≥ 0")


def _check_money(value: object, field_name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _bad(field_name, value, "money is a finite Decimal")


@dataclass(frozen=True)
class Receipt:
    """A signed, hash-chained summary of one metered call (see the module docstring)."""

    record_id: str
    tenant: str
    model: str
    seq: int
    prev_sha256: str
    request_sha256: str
    response_sha256: str
    issued_at: dt.datetime
    key_id: str
    currency: str
    total: Decimal
    native: Mapping[str, int] = field(default_factory=dict)
    standard: Mapping[str, int] = field(default_factory=dict)
    charges: Mapping[str, Decimal] = field(default_factory=dict)
    price_book_version: str = ""
    version: int = RECEIPT_VERSION

    def __post_init__(self) -> None:
        _match(_TEXT, self.record_id, "id", "1-200 characters, no control characters")
        _match(_SLUG, self.tenant, "tenant", "a tenant id (slug)")
        _match(_TEXT, self.model, "model", "1-200 characters, no control characters")
        if type(self.seq) is not int or self.seq < 1:
            raise _bad("seq", self.seq, "a whole number ≥ 1")
        for name, value in (("prev", self.prev_sha256), ("req", self.request_sha256),
                            ("res", self.response_sha256)):
            _match(_HEX64, value, name, "64 lowercase hex digits (SHA-256)")
        if self.issued_at.tzinfo is None:
            raise _bad("at", self.issued_at, "a timezone-aware (UTC) time")
        _match(_KEY_ID, self.key_id, "kid", "16 lowercase hex digits")
        _match(_CURRENCY, self.currency, "charge.currency", "a 3-letter currency code")
        _check_money(self.total, "charge.total")
        _check_counts(self.native, "native")
        _check_counts(self.standard, "standard")
        if len(self.charges) > MAX_CATEGORIES:
            raise _bad("charge.lines", self.charges, f"at most {MAX_CATEGORIES} lines")
        for name, amount in self.charges.items():
            _match(_CATEGORY, name, "charge.lines", "line names are [a-z0-9_]{1,40}")
            _check_money(amount, f"charge.lines.{name}")
        _match(_OPTIONAL_TEXT, self.price_book_version, "pb", "0-200 characters")
        if self.version != RECEIPT_VERSION:
            raise _bad("v", self.version, f"this ciyuan reads version {RECEIPT_VERSION}")

    @cached_property
    def canonical(self) -> bytes:
        """The bytes that are signed and hashed (made once: the receipt is immutable)."""
        return json.dumps(_payload_dict(self), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True).encode("ascii")

    @property
    def sha256(self) -> str:
        """The receipt's hash: what the tenant's next receipt names as ``prev``."""
        return receipt_sha256(self)


def _payload_dict(receipt: Receipt) -> dict[str, Any]:
    at = receipt.issued_at.astimezone(dt.UTC).strftime(_TIME_FORMAT)
    return {
        "v": receipt.version, "kid": receipt.key_id, "tenant": receipt.tenant,
        "seq": receipt.seq, "prev": receipt.prev_sha256, "id": receipt.record_id,
        "model": receipt.model, "at": at, "req": receipt.request_sha256,
        "res": receipt.response_sha256, "native": dict(receipt.native),
        "standard": dict(receipt.standard), "pb": receipt.price_book_version,
        "charge": {"currency": receipt.currency, "total": format_amount(receipt.total),
                   "lines": {k: format_amount(v) for k, v in receipt.charges.items()}},
    }


def canonical_payload(receipt: Receipt) -> bytes:
    """The bytes that are signed and hashed: sorted keys, no spaces, ASCII."""
    return receipt.canonical


def receipt_sha256(receipt: Receipt) -> str:
    return sha256_hex(canonical_payload(receipt))


def _decimal(value: object, field_name: str) -> Decimal:
    if not isinstance(value, str):
        raise _bad(field_name, value, "money is a decimal string")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise _bad(field_name, value, "money is a decimal string") from None


def _time(value: object) -> dt.datetime:
    try:
        return dt.datetime.strptime(str(value), _TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise _bad("at", value, "a UTC time like 2026-11-22T08:00:00.000000Z") from None


def parse_payload(payload: bytes) -> Receipt:
    """The receipt in canonical payload bytes; ``ReceiptMalformedError`` if they are not."""
    try:
        data = json.loads(payload.decode("ascii"), parse_float=Decimal)
        charge = data["charge"]
        receipt = Receipt(
            record_id=data["id"], tenant=data["tenant"], model=data["model"], seq=data["seq"],
            prev_sha256=data["prev"], request_sha256=data["req"], response_sha256=data["res"],
            issued_at=_time(data["at"]), key_id=data["kid"], currency=charge["currency"],
            total=_decimal(charge["total"], "charge.total"), native=data["native"],
            standard=data["standard"],
            charges={k: _decimal(v, f"charge.lines.{k}") for k, v in charge["lines"].items()},
            price_book_version=data["pb"], version=data["v"])
    except ReceiptMalformedError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReceiptMalformedError(
            f"the receipt payload is not a ciyuan receipt ({type(exc).__name__}: {exc}); copy "
            "the whole X-Ciyuan-Receipt header value") from None
    if canonical_payload(receipt) != payload:
        raise ReceiptMalformedError(
            "the receipt payload is not in canonical form (sorted keys, no spaces), so its "
            "hash is not defined; it was not made by ciyuan")
    return receipt
