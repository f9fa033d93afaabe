"""The receipt token: ``base64url(payload) + "." + base64url(signature)``, ASCII, no padding.

``payload`` is the receipt's canonical JSON (``ciyuan.receipt.model``), ``signature`` its
64-byte Ed25519 signature. The token travels in the ``X-Ciyuan-Receipt`` response header.

Bound: a token is at most ``MAX_RECEIPT_CHARS`` = 4,096 characters. A proxy in front of the
gateway must hold *all* response headers in one buffer — nginx's default
``proxy_buffer_size`` is one memory page, 4 KiB or 8 KiB, and a larger header set fails the
request with 502 "upstream sent too big header" — so a receipt stays well inside it. A
typical receipt is about 1 KB; signing refuses one over the bound.
"""

from __future__ import annotations

import base64
import binascii
import re

from ciyuan.receipt.errors import (
    ReceiptBodyMismatchError,
    ReceiptMalformedError,
    ReceiptSignatureError,
    ReceiptTooLargeError,
)
from ciyuan.receipt.keys import ReceiptPublicKey, ReceiptSigner
from ciyuan.receipt.model import Receipt, canonical_payload, parse_payload, sha256_hex

__all__ = ["HEADER", "MAX_RECEIPT_CHARS", "STREAM_LINE", "decode_unverified", "sign", "verify"]

#: The response header that carries a receipt.
HEADER = "X-Ciyuan-Receipt"
#: The last piece of a streamed response: its receipt, as an SSE comment line. The receipt
#: signs the stream before it, so ``verify`` leaves it out of a body that ends with it.
STREAM_LINE = ": x-ciyuan-receipt {token}\n\n"
MAX_RECEIPT_CHARS = 4096
_TOKEN = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})")  # 64 bytes → 86 characters


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: the text must be the one encoding of its bytes (no stray low bits), so no
    two tokens carry the same receipt."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        data = None
    if data is None or _b64encode(data) != text:
        raise ReceiptMalformedError("the receipt is not valid base64url; copy the whole "
                                    "X-Ciyuan-Receipt header value")
    return data


def sign(receipt: Receipt, signer: ReceiptSigner) -> str:
    """The token of ``receipt``, signed; ``ReceiptTooLargeError`` over the header bound."""
    assert receipt.key_id == signer.key_id, "a receipt names the key that signs it"
    payload = canonical_payload(receipt)
    token = f"{_b64encode(payload)}.{_b64encode(signer.sign(payload))}"
    if len(token) > MAX_RECEIPT_CHARS:
        raise ReceiptTooLargeError(
            f"the receipt of record {receipt.record_id} would be {len(token)} characters, over "
            f"the {MAX_RECEIPT_CHARS}-character header bound; shorten the model name, record id "
            "or price-book version, or itemize fewer charge lines", size=len(token))
    return token


def _split(token: str) -> tuple[bytes, bytes]:
    token = token.strip()
    if len(token) > MAX_RECEIPT_CHARS:
        raise ReceiptMalformedError(
            f"the receipt has {len(token)} characters; ciyuan receipts have at most "
            f"{MAX_RECEIPT_CHARS}")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise ReceiptMalformedError(
            "the text is not a ciyuan receipt: expected <base64url payload>.<base64url "
            "signature> (copy the whole X-Ciyuan-Receipt header value)")
    return _b64decode(match.group(1)), _b64decode(match.group(2))


def decode_unverified(token: str) -> Receipt:
    """The receipt in ``token`` WITHOUT checking its signature (for display and key lookup
    only; trust nothing in it before ``verify``)."""
    payload, _ = _split(token)
    return parse_payload(payload)


def verify(
    token: str,
    public_key: ReceiptPublicKey,
    body: bytes | None = None,
    *,
    request_body: bytes | None = None,
) -> Receipt:
    """The receipt in ``token`` if ``public_key`` signed it, and (when given) ``body`` is the
    response body and ``request_body`` the request body it names by SHA-256. A streamed
    body may be passed as received, ending with this receipt's ``STREAM_LINE``.

    Raises ``ReceiptMalformedError``, ``ReceiptSignatureError`` or
    ``ReceiptBodyMismatchError``.
    """
    payload, signature = _split(token)
    if not public_key.verifies(signature, payload):
        hint = "the receipt was altered after signing"
        try:
            claimed = parse_payload(payload).key_id
        except ReceiptMalformedError:
            claimed = None
        if claimed is not None and claimed != public_key.key_id:
            hint = (f"it names signing key {claimed}, but the public key given is "
                    f"{public_key.key_id}: get the right one from GET /api/receipts/public-key")
        raise ReceiptSignatureError(f"the receipt's signature does not verify: {hint}",
                                    key_id=public_key.key_id)
    receipt = parse_payload(payload)
    if body is not None:  # a stream as received ends with this receipt's own line
        body = body.removesuffix(STREAM_LINE.format(token=token.strip()).encode("ascii"))
    for name, given, expected in (("response body", body, receipt.response_sha256),
                                  ("request body", request_body, receipt.request_sha256)):
        if given is not None and (actual := sha256_hex(given)) != expected:
            raise ReceiptBodyMismatchError(
                f"the {name} has SHA-256 {actual}, but the receipt signs {expected}: it is not "
                f"the {name} of record {receipt.record_id} (a changed byte, a re-encoded JSON "
                "or a decompressed copy all differ)", which=name)
    return receipt
