"""Billing's reading of a batch's results: the refusal that counts, never a silent pass."""

from __future__ import annotations

import pytest

from ciyuan.billing.errors import BillingConflictError, BudgetLevelExceededError
from ciyuan.billing.outcomes import raise_for
from ciyuan.ledger import Result, Transfer, TransferFlags

CHAIN = [Transfer("a", "budget:t1", "revenue", 5, flags=TransferFlags.LINKED),
         Transfer("b", "budget:t2", "revenue", 5)]


def test_a_chain_refused_only_for_another_writes_sake_is_a_failure() -> None:
    raise_for([Result.OK, Result.OK], CHAIN, what="reserve r1")  # all ok: nothing raised
    with pytest.raises(BillingConflictError, match="refused transfer 'a'"):
        raise_for([Result.LINKED_EVENT_FAILED] * 2, CHAIN, what="reserve r1")


def test_the_refusal_itself_wins_over_its_echoes() -> None:
    with pytest.raises(BudgetLevelExceededError, match="budget:t2"):
        raise_for([Result.LINKED_EVENT_FAILED, Result.EXCEEDS_CREDITS], CHAIN,
                  what="reserve r1", currency="USD")
