"""Sample bodies and a receipt draft shared by the receipt tests."""

from __future__ import annotations

from decimal import Decimal

from ciyuan.receipt import ReceiptDraft
from ciyuan.receipt.model import sha256_hex

REQUEST = ('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"你好"}]}'
           .encode())
RESPONSE = b'{"id":"chatcmpl-1","choices":[{"message":{"content":"hello"}}]}'


def draft(record_id: str = "rec-1", tenant: str = "acme") -> ReceiptDraft:
    return ReceiptDraft(
        record_id=record_id, tenant=tenant, model="gpt-4o-mini",
        request_sha256=sha256_hex(REQUEST), response_sha256=sha256_hex(RESPONSE),
        currency="USD", total=Decimal("0.0000123"),
        native={"input_tokens": 12, "output_tokens": 5, "cached_input_tokens": 0},
        standard={"input_tokens": 11, "output_tokens": 5},
        charges={"input": Decimal("0.0000018"), "output": Decimal("0.0000105")},
        price_book_version="builtin-2026-11")
