"""ciyuan.receipt: signed, hash-chained receipts a consumer or auditor verifies offline.

Owns the :class:`Receipt` value and its canonical payload, the Ed25519 signing key file, the
``X-Ciyuan-Receipt`` token (``sign``/``verify``), per-tenant chains (``verify_chain``, the
``ReceiptChainStore`` interface) and the :class:`ReceiptIssuer` the gateway calls. In: a
completed usage record and the bodies' hashes; out: a token of at most 4,096 characters.
See docs/concepts/receipts.md.
"""

from ciyuan.receipt.chain import (
    ChainHead,
    ChainReport,
    InMemoryChainStore,
    ReceiptChainStore,
    verify_chain,
)
from ciyuan.receipt.errors import (
    ReceiptBodyMismatchError,
    ReceiptChainError,
    ReceiptError,
    ReceiptKeyError,
    ReceiptMalformedError,
    ReceiptSignatureError,
    ReceiptTooLargeError,
)
from ciyuan.receipt.issuer import (
    IssuedReceipt,
    ReceiptDraft,
    ReceiptIssuer,
    draft_from_record,
    native_counts,
)
from ciyuan.receipt.keys import (
    ReceiptPublicKey,
    ReceiptSigner,
    default_key_path,
    load_or_create_signer,
    load_public_key,
)
from ciyuan.receipt.model import GENESIS_SHA256, Receipt, receipt_sha256, sha256_hex
from ciyuan.receipt.token import HEADER, MAX_RECEIPT_CHARS, decode_unverified, sign, verify

__all__ = [
    "GENESIS_SHA256",
    "HEADER",
    "MAX_RECEIPT_CHARS",
    "ChainHead",
    "ChainReport",
    "InMemoryChainStore",
    "IssuedReceipt",
    "Receipt",
    "ReceiptBodyMismatchError",
    "ReceiptChainError",
    "ReceiptChainStore",
    "ReceiptDraft",
    "ReceiptError",
    "ReceiptIssuer",
    "ReceiptKeyError",
    "ReceiptMalformedError",
    "ReceiptPublicKey",
    "ReceiptSignatureError",
    "ReceiptSigner",
    "ReceiptTooLargeError",
    "decode_unverified",
    "default_key_path",
    "draft_from_record",
    "load_or_create_signer",
    "load_public_key",
    "native_counts",
    "receipt_sha256",
    "sha256_hex",
    "sign",
    "verify",
    "verify_chain",
]
