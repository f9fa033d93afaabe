"""Signing and verifying one receipt: bodies, tampering, wrong keys, the header bound."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from receipt_samples import REQUEST, RESPONSE, draft

from ciyuan.receipt import (
    MAX_RECEIPT_CHARS,
    Receipt,
    ReceiptBodyMismatchError,
    ReceiptError,
    ReceiptIssuer,
    ReceiptMalformedError,
    ReceiptSignatureError,
    ReceiptSigner,
    ReceiptTooLargeError,
    decode_unverified,
    sign,
    verify,
)
from ciyuan.receipt.model import canonical_payload, parse_payload


def test_a_valid_receipt_verifies_with_its_bodies(issuer: ReceiptIssuer,
                                                   signer: ReceiptSigner) -> None:
    issued = issuer.issue(draft())
    token = issued.token
    assert token.isascii() and token.count(".") == 1 and len(token) < 1200
    receipt = verify(token, signer.public_key, RESPONSE, request_body=REQUEST)
    assert receipt == issued.receipt
    assert (receipt.tenant, receipt.seq, receipt.model) == ("acme", 1, "gpt-4o-mini")
    assert receipt.total == Decimal("0.0000123") and receipt.key_id == signer.key_id
    assert receipt.charges == {"input": Decimal("0.0000018"), "output": Decimal("0.0000105")}
    assert decode_unverified(token) == receipt


def test_the_payload_is_canonical_json_with_money_as_strings(issuer: ReceiptIssuer) -> None:
    receipt = issuer.issue(draft()).receipt
    payload = canonical_payload(receipt)
    data = json.loads(payload)
    assert data["charge"] == {"currency": "USD", "total": "0.0000123",
                              "lines": {"input": "0.0000018", "output": "0.0000105"}}
    assert data["at"] == "2026-11-22T08:00:00.000000Z" and data["v"] == 1
    assert payload == json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert parse_payload(payload) == receipt


def test_one_changed_byte_of_the_body_is_rejected(issuer: ReceiptIssuer,
                                                  signer: ReceiptSigner) -> None:
    token = issuer.issue(draft()).token
    changed = bytearray(RESPONSE)
    changed[10] ^= 0x01
    with pytest.raises(ReceiptBodyMismatchError, match="response body") as info:
        verify(token, signer.public_key, bytes(changed))
    assert info.value.code == "receipt-body-mismatch"
    with pytest.raises(ReceiptBodyMismatchError, match="request body"):
        verify(token, signer.public_key, RESPONSE, request_body=REQUEST + b" ")


def test_a_stream_as_received_verifies_with_its_own_receipt_line_only(
        issuer: ReceiptIssuer, signer: ReceiptSigner) -> None:
    """The receipt of a stream signs the events before its final comment line; the stream
    saved whole (that line included) verifies, and no other ending is left out."""
    from ciyuan.receipt.token import STREAM_LINE

    token = issuer.issue(draft()).token
    line = STREAM_LINE.format(token=token).encode()
    assert line == b": x-ciyuan-receipt " + token.encode() + b"\n\n"
    assert verify(token, signer.public_key, RESPONSE + line).response_sha256
    other = issuer.issue(draft()).token
    for ending in (STREAM_LINE.format(token=other).encode(), line + b"\n", line[:-1]):
        with pytest.raises(ReceiptBodyMismatchError):
            verify(token, signer.public_key, RESPONSE + ending)


def test_a_receipt_signed_by_another_key_is_rejected(issuer: ReceiptIssuer) -> None:
    token = issuer.issue(draft()).token
    other = ReceiptSigner.generate()
    with pytest.raises(ReceiptSignatureError, match=other.key_id) as info:
        verify(token, other.public_key)
    assert info.value.code == "receipt-signature-invalid"


def test_a_re_signed_forgery_with_changed_charges_is_rejected(issuer: ReceiptIssuer,
                                                              signer: ReceiptSigner) -> None:
    token = issuer.issue(draft()).token
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    payload["charge"]["total"] = "0.0000001"
    forged = base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True, separators=(
        ",", ":")).encode()).rstrip(b"=").decode()
    with pytest.raises(ReceiptSignatureError, match="altered"):
        verify(f"{forged}.{token.split('.')[1]}", signer.public_key)


@settings(max_examples=150, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "))
def test_any_single_character_change_is_rejected(position: int, replacement: str) -> None:
    signer = _SIGNER
    token = _TOKEN
    position %= len(token)
    if token[position] == replacement:
        return
    tampered = token[:position] + replacement + token[position + 1:]
    with pytest.raises(ReceiptError):
        verify(tampered, signer.public_key)


_SIGNER = ReceiptSigner.generate()
_RECEIPT = Receipt(record_id="rec-1", tenant="acme", model="m", seq=1, prev_sha256="0" * 64,
                   request_sha256="1" * 64, response_sha256="2" * 64,
                   issued_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), key_id=_SIGNER.key_id,
                   currency="CNY", total=Decimal("1.5"))
_TOKEN = sign(_RECEIPT, _SIGNER)


@pytest.mark.parametrize("text", ["", "abc", "a.b.c", "x" * 5000, "€.€", "e30." + "A" * 85])
def test_text_that_is_not_a_receipt_is_malformed(text: str) -> None:
    with pytest.raises(ReceiptMalformedError):
        verify(text, _SIGNER.public_key)


def test_an_unsigned_payload_fails_on_the_signature_first() -> None:
    with pytest.raises(ReceiptSignatureError):
        verify("e30." + "A" * 86, _SIGNER.public_key)  # "{}" and 64 zero bytes


def test_a_signed_but_non_canonical_payload_is_malformed() -> None:
    payload = canonical_payload(_RECEIPT).replace(b",", b", ", 1)
    sig = _SIGNER.sign(payload)
    token = (base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "."
             + base64.urlsafe_b64encode(sig).rstrip(b"=").decode())
    with pytest.raises(ReceiptMalformedError, match="canonical"):
        verify(token, _SIGNER.public_key)


def test_receipts_stay_under_the_header_bound() -> None:
    fat = dataclasses.replace(_RECEIPT, model="m" * 200, record_id="r" * 200,
                              native={f"c{i:02d}_" + "x" * 30: 10**15 for i in range(32)},
                              standard={f"s{i:02d}_" + "x" * 30: 10**15 for i in range(32)})
    with pytest.raises(ReceiptTooLargeError, match=str(MAX_RECEIPT_CHARS)):
        sign(fat, _SIGNER)


def test_receipt_fields_are_checked() -> None:
    for bad in ({"seq": 0}, {"tenant": "Acme"}, {"prev_sha256": "x"}, {"currency": "usd"},
                {"native": {"input_tokens": -1}}, {"native": {"Bad Name": 1}},
                {"charges": {"input": 1}}, {"model": ""}, {"key_id": "nothex"}):
        with pytest.raises(ReceiptMalformedError):
            dataclasses.replace(_RECEIPT, **bad)  # type: ignore[arg-type]


def test_non_ascii_model_names_are_escaped_in_the_payload() -> None:
    receipt = dataclasses.replace(_RECEIPT, model="通义千问-max")
    payload = canonical_payload(receipt)
    assert payload.isascii() and parse_payload(payload).model == "通义千问-max"
