"""Ledger values refuse what cannot be stored; floats never become money."""

from __future__ import annotations

import dataclasses

import pytest

from ciyuan.ledger import (
    AMOUNT_MAX,
    Account,
    AccountKind,
    Balance,
    LedgerState,
    Result,
    Transfer,
    TransferFlags,
    apply,
    canonical_json,
    unit_scale,
)
from ciyuan.ledger.errors import (
    LedgerAccountInvalidError,
    LedgerAmountRangeError,
    LedgerAmountTypeError,
    LedgerTransferInvalidError,
    LedgerUnitError,
)


def test_scales() -> None:
    assert unit_scale("USD") == unit_scale("CNY") == 9
    assert unit_scale("TOKEN") == unit_scale("TOKEN:gpt-4o") == 0
    with pytest.raises(LedgerUnitError):
        unit_scale("DOGE")


@pytest.mark.parametrize("amount", [1.5, True, "3", None])
def test_amount_must_be_an_int(amount: object) -> None:
    with pytest.raises(LedgerAmountTypeError):
        Transfer("t", "a", "b", amount)  # type: ignore[arg-type]


def test_amount_bound_is_sqlite_int64() -> None:
    assert Transfer("t", "a", "b", AMOUNT_MAX).amount == 2**63 - 1
    with pytest.raises(LedgerAmountRangeError, match="split the transfer"):
        Transfer("t", "a", "b", AMOUNT_MAX + 1)


@pytest.mark.parametrize("changes", [
    {"id": ""}, {"id": "x" * 201}, {"pending_id": 5}, {"timeout_s": -1},
    {"metadata": (("k", 1),)}, {"timestamp_ns": -1},
])
def test_malformed_transfers_are_refused(changes: dict[str, object]) -> None:
    fields = {"id": "t", "debit_account_id": "a", "credit_account_id": "b", "amount": 1}
    with pytest.raises(LedgerTransferInvalidError):
        Transfer(**{**fields, **changes})  # type: ignore[arg-type]


def test_account_validation() -> None:
    assert Account("w", "wallet", "USD", "t1").kind is AccountKind.WALLET  # type: ignore[arg-type]
    bad: list[dict[str, object]] = [
        {"id": ""}, {"credit_limit": -1},
        {"debits_must_not_exceed_credits": True, "credits_must_not_exceed_debits": True}]
    for changes in bad:
        with pytest.raises(LedgerAccountInvalidError):
            Account(**{"id": "w", "kind": AccountKind.WALLET, "unit": "USD", "owner": "t1",
                       **changes})  # type: ignore[arg-type]


def test_values_are_frozen_and_metadata_is_sorted() -> None:
    t = Transfer("t", "a", "b", 1, metadata=(("z", "1"), ("a", "2")))
    assert t.metadata == (("a", "2"), ("z", "1"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.amount = 2  # type: ignore[misc]
    assert b'"amount":1' in canonical_json(1, "transfer", t)


def test_pure_apply_returns_a_new_state_and_leaves_the_old_one() -> None:
    accounts = {"a": Account("a", AccountKind.FUNDING, "USD", "p"),
                "b": Account("b", AccountKind.WALLET, "USD", "t",
                             debits_must_not_exceed_credits=True)}
    state = LedgerState(accounts=accounts)
    new = apply(state, Transfer("t1", "a", "b", 7), now_ns=5)
    assert isinstance(new, LedgerState)
    assert new.balances["b"] == Balance(credits_posted=7)
    assert new.transfers["t1"].timestamp_ns == 5
    assert state.balances == {}
    assert apply(new, Transfer("t2", "b", "a", 8), now_ns=6) is Result.EXCEEDS_CREDITS
    held = apply(new, Transfer("t3", "b", "a", 7, flags=TransferFlags.PENDING, timeout_s=1), 6)
    assert isinstance(held, LedgerState) and held.balances["b"].debits_pending == 7
