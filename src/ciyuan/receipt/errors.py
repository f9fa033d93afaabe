"""Typed errors of receipts.

::

    ReceiptError                   receipt-error
    ├── ReceiptMalformedError      receipt-malformed
    ├── ReceiptTooLargeError       receipt-too-large
    ├── ReceiptSignatureError      receipt-signature-invalid
    ├── ReceiptBodyMismatchError   receipt-body-mismatch
    ├── ReceiptChainError          receipt-chain-broken
    └── ReceiptKeyError            receipt-key-error
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError

__all__ = [
    "ReceiptBodyMismatchError",
    "ReceiptChainError",
    "ReceiptError",
    "ReceiptKeyError",
    "ReceiptMalformedError",
    "ReceiptSignatureError",
    "ReceiptTooLargeError",
]


class ReceiptError(CiyuanError):
    code = "receipt-error"
    summary = "A receipt cannot be made or does not verify."


class ReceiptMalformedError(ReceiptError):
    code = "receipt-malformed"
    summary = ("The text is not a ciyuan receipt (`<base64url payload>.<base64url signature>`); "
               "copy the whole `X-Ciyuan-Receipt` header value.")


class ReceiptTooLargeError(ReceiptError):
    code = "receipt-too-large"
    summary = "A receipt would exceed the 4,096-character header bound; shorten the named field."


class ReceiptSignatureError(ReceiptError):
    code = "receipt-signature-invalid"
    summary = ("The receipt's Ed25519 signature does not match: it was altered, or it was signed "
               "by another key than the one given.")


class ReceiptBodyMismatchError(ReceiptError):
    code = "receipt-body-mismatch"
    summary = ("The SHA-256 of the given request or response body differs from the one the "
               "receipt signs: the body is not the one the gateway served.")


class ReceiptChainError(ReceiptError):
    code = "receipt-chain-broken"
    summary = ("Receipts do not form one chain (a receipt is missing, reordered, altered or of "
               "another tenant); the message names the first break.")


class ReceiptKeyError(ReceiptError):
    code = "receipt-key-error"
    summary = ("The receipt signing or public key file cannot be used (unreadable, not PEM "
               "Ed25519, or readable by others); the message says how to fix it.")
