"""Per-tenant chains: the issuer links receipts; verify_chain finds every break."""

from __future__ import annotations

import dataclasses

import pytest
from receipt_samples import draft

from ciyuan.receipt import (
    GENESIS_SHA256,
    ChainHead,
    Receipt,
    ReceiptChainError,
    ReceiptIssuer,
    ReceiptSigner,
    verify,
    verify_chain,
)


def _chain(issuer: ReceiptIssuer, tenant: str, n: int) -> list[Receipt]:
    return [issuer.issue(draft(f"{tenant}-{i}", tenant)).receipt for i in range(n)]


def test_each_tenant_has_its_own_chain(issuer: ReceiptIssuer, signer: ReceiptSigner) -> None:
    acme_tokens = []
    for i in range(3):
        acme_tokens.append(issuer.issue(draft(f"a{i}", "acme")).token)
        issuer.issue(draft(f"b{i}", "beta"))
    acme = [verify(t, signer.public_key) for t in acme_tokens]
    assert [r.seq for r in acme] == [1, 2, 3]
    assert acme[0].prev_sha256 == GENESIS_SHA256
    assert acme[1].prev_sha256 == acme[0].sha256
    report = verify_chain(acme)
    assert (report.tenant, report.count, report.first_seq) == ("acme", 3, 1)
    assert report.head == ChainHead("acme", 3, acme[-1].sha256)


def test_a_missing_receipt_is_found(issuer: ReceiptIssuer) -> None:
    receipts = _chain(issuer, "acme", 4)
    with pytest.raises(ReceiptChainError, match="receipts 2..2 are missing") as info:
        verify_chain([receipts[0], *receipts[2:]])
    assert info.value.code == "receipt-chain-broken"


def test_reordered_receipts_are_found(issuer: ReceiptIssuer) -> None:
    receipts = _chain(issuer, "acme", 3)
    with pytest.raises(ReceiptChainError, match="out of order"):
        verify_chain([receipts[0], receipts[2], receipts[1]])


def test_a_replaced_receipt_is_found(issuer: ReceiptIssuer) -> None:
    receipts = _chain(issuer, "acme", 3)
    forged = dataclasses.replace(receipts[1], model="other-model")  # same seq and prev
    with pytest.raises(ReceiptChainError, match="previous receipt's hash"):
        verify_chain([receipts[0], forged, receipts[2]])


def test_another_tenants_receipt_is_found(issuer: ReceiptIssuer) -> None:
    acme = _chain(issuer, "acme", 2)
    beta = _chain(issuer, "beta", 2)
    with pytest.raises(ReceiptChainError, match="tenant 'beta'"):
        verify_chain([acme[0], beta[1]])


def test_a_chain_can_be_checked_from_the_middle(issuer: ReceiptIssuer) -> None:
    receipts = _chain(issuer, "acme", 5)
    assert verify_chain(receipts[2:]).first_seq == 3
    after = ChainHead("acme", 2, receipts[1].sha256)
    assert verify_chain(receipts[2:], after=after).count == 3
    with pytest.raises(ReceiptChainError):
        verify_chain(receipts[3:], after=after)
    with pytest.raises(ReceiptChainError, match="no receipts"):
        verify_chain([])


def test_a_first_receipt_must_start_from_genesis(issuer: ReceiptIssuer) -> None:
    first = _chain(issuer, "acme", 1)[0]
    with pytest.raises(ReceiptChainError, match="genesis"):
        verify_chain([dataclasses.replace(first, prev_sha256="1" * 64)])
