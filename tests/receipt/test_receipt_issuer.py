"""Receipts from usage records, and chains kept by a real store across workers."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

from ciyuan.core.records import UsageRecord
from ciyuan.core.usage import Usage
from ciyuan.receipt import (
    ReceiptIssuer,
    ReceiptSigner,
    draft_from_record,
    native_counts,
    verify,
    verify_chain,
)
from ciyuan.store.identity import open_receipt_chain_store

T0 = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


def _record(record_id: str = "rec-1") -> UsageRecord:
    return UsageRecord(
        id=record_id, tenant="acme", model="deepseek-chat", provider="deepseek",
        endpoint="chat.completions", started_at=T0, status="completed", completed_at=T0,
        usage=Usage(input_tokens=100, output_tokens=20, cached_input_tokens=40),
        standard_input_tokens=80, standard_output_tokens=18, currency="CNY",
        charge_nano=1_234_500, price_book_version="pb-7", request_sha256="a" * 64,
        response_sha256="b" * 64)


def test_a_draft_carries_the_records_counts_and_charge() -> None:
    draft = draft_from_record(_record(), charges={"input": Decimal("0.001")})
    assert draft.total == Decimal("0.0012345") and draft.currency == "CNY"
    assert draft.native == {"input_tokens": 100, "output_tokens": 20,
                            "cached_input_tokens": 40, "requests": 1}
    assert draft.standard == {"input_tokens": 80, "output_tokens": 18}
    assert draft.price_book_version == "pb-7" and draft.charges == {"input": Decimal("0.001")}
    assert native_counts(Usage())["output_tokens"] == 0


def test_a_record_without_currency_gets_no_currency_code() -> None:
    record = UsageRecord(id="r", tenant="acme", model="m", provider="p", endpoint="embeddings",
                         started_at=T0)
    assert draft_from_record(record).currency == "XXX"


def test_workers_on_one_sqlite_file_extend_one_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ciyuan.db'}"
    signer = ReceiptSigner.generate()
    stores = [open_receipt_chain_store(url) for _ in range(3)]
    tokens: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        issuer = ReceiptIssuer(signer, stores[n])
        for i in range(10):
            token = issuer.issue(draft_from_record(_record(f"w{n}-{i}"))).token
            with lock:
                tokens.append(token)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    receipts = sorted((verify(t, signer.public_key) for t in tokens), key=lambda r: r.seq)
    report = verify_chain(receipts)
    assert report.count == 30 and report.head.seq == 30
