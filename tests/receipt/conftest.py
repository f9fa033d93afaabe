"""Receipts signed by a fresh key, for a small tenant chain."""

from __future__ import annotations

import datetime as dt

import pytest

from ciyuan.receipt import InMemoryChainStore, ReceiptIssuer, ReceiptSigner


@pytest.fixture(scope="session")
def signer() -> ReceiptSigner:
    return ReceiptSigner.generate()


@pytest.fixture
def issuer(signer: ReceiptSigner) -> ReceiptIssuer:
    clock = iter(dt.datetime(2026, 11, 22, 8, 0, s, tzinfo=dt.UTC) for s in range(60))
    return ReceiptIssuer(signer, InMemoryChainStore(), clock=lambda: next(clock))
