"""Issuing receipts: a draft from the gateway, the tenant's chain head, a signature.

The gateway calls ``ReceiptIssuer.issue(draft_from_record(record))`` once a usage record is
completed; the token goes into the ``X-Ciyuan-Receipt`` header (or, for a streamed response,
whose headers leave before the body, into the stream's last event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.receipt.chain import ChainHead, ReceiptChainStore
from ciyuan.receipt.keys import ReceiptPublicKey, ReceiptSigner
from ciyuan.receipt.model import Receipt
from ciyuan.receipt.token import sign

__all__ = ["IssuedReceipt", "ReceiptDraft", "ReceiptIssuer", "draft_from_record",
           "native_counts"]

#: ISO 4217 "no currency": the currency of a receipt for a call with no charge and no currency.
NO_CURRENCY = "XXX"
_NANO = 9  # UsageRecord money is in nano-units (10^-9)


@dataclass(frozen=True)
class ReceiptDraft:
    """What the gateway knows of a call; the issuer adds chain, time and key."""

    record_id: str
    tenant: str
    model: str
    request_sha256: str
    response_sha256: str
    currency: str
    total: Decimal
    native: Mapping[str, int] = field(default_factory=dict)
    standard: Mapping[str, int] = field(default_factory=dict)
    charges: Mapping[str, Decimal] = field(default_factory=dict)
    price_book_version: str = ""


@dataclass(frozen=True)
class IssuedReceipt:
    """A signed receipt: ``token`` for the header, ``receipt`` for the caller's own use."""

    token: str
    receipt: Receipt


def native_counts(usage: Usage) -> dict[str, int]:
    """The non-zero counts of ``usage`` by field name (input and output always present)."""
    counts = {f.name: getattr(usage, f.name) for f in fields(usage)}
    return {name: value for name, value in counts.items()
            if value or name in ("input_tokens", "output_tokens")}


def draft_from_record(
    record: UsageRecord,
    *,
    charges: Mapping[str, Decimal] | None = None,
    response_sha256: str | None = None,
) -> ReceiptDraft:
    """The draft of a completed record; ``charges`` itemizes its total by category when the
    caller has the rating's lines, ``response_sha256`` overrides the record's."""
    return ReceiptDraft(
        record_id=record.id,
        tenant=record.tenant,
        model=record.model,
        request_sha256=record.request_sha256,
        response_sha256=response_sha256 or record.response_sha256,
        currency=record.currency or NO_CURRENCY,
        total=Decimal(record.charge_nano).scaleb(-_NANO),
        native=native_counts(record.usage) if record.usage is not None else {},
        standard={"input_tokens": record.standard_input_tokens,
                  "output_tokens": record.standard_output_tokens},
        charges=dict(charges or {}),
        price_book_version=record.price_book_version,
    )


class ReceiptIssuer:
    """Signs receipts and extends each tenant's chain through a ``ReceiptChainStore``."""

    def __init__(
        self,
        signer: ReceiptSigner,
        chain: ReceiptChainStore,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._signer = signer
        self._chain = chain
        self._clock = clock
        self._key_id = signer.key_id

    @property
    def public_key(self) -> ReceiptPublicKey:
        return self._signer.public_key

    def issue(self, draft: ReceiptDraft) -> IssuedReceipt:
        """Sign ``draft`` as the next receipt of its tenant's chain (atomic per tenant)."""

        def link(head: ChainHead) -> tuple[str, IssuedReceipt]:
            receipt = Receipt(
                record_id=draft.record_id, tenant=draft.tenant, model=draft.model,
                seq=head.seq + 1, prev_sha256=head.sha256,
                request_sha256=draft.request_sha256, response_sha256=draft.response_sha256,
                issued_at=self._clock(), key_id=self._key_id, currency=draft.currency,
                total=draft.total, native=dict(draft.native), standard=dict(draft.standard),
                charges=dict(draft.charges), price_book_version=draft.price_book_version)
            token = sign(receipt, self._signer)
            return receipt.sha256, IssuedReceipt(token, receipt)

        return self._chain.advance(draft.tenant, link)
