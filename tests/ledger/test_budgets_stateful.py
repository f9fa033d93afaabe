"""Stateful property test: interleaved reservations never overshoot any budget level.

Random sequences of reserve / settle / release / retry / time passing (with expiry) run
against ``Billing`` on SQLite, with many reservations open at once over nested levels
(tenant ⊃ teams ⊃ agents ⊃ keys) and a wallet with a credit line. A small reference model
predicts every outcome. After every step: no budget period was debited past its funding
(posted + held), each level's spent total equals the model's, held totals equal the open
reservations, and the wallet stays within its credit line.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ciyuan.billing import Billing, Level, LevelKind, Reservation, Scope
from ciyuan.billing.errors import (
    BudgetLevelExceededError,
    ReservationClosedError,
    ReservationInvalidError,
    WalletInsufficientError,
)
from ciyuan.store import SqliteLedgerStore

AT = dt.datetime(2026, 11, 5, 8, tzinfo=dt.UTC)
S = 10**9
BUDGETS = {  # level → (period, amount)
    Level(LevelKind.TENANT, "acme"): ("month", 120),
    Level(LevelKind.TEAM, "acme", "red"): ("day", 60),
    Level(LevelKind.AGENT, "acme", "a1"): ("month", 45),
    Level(LevelKind.KEY, "acme", "k1"): ("day", 25),
    Level(LevelKind.KEY, "acme", "k3"): ("month", 30),
}
SCOPES = [Scope("acme", "red", "a1", "k1"), Scope("acme", "red", "a1", "k2"),
          Scope("acme", "red", "a2", "k3"), Scope("acme", "blue", "a1", "k4"),
          Scope("acme", "", "", "k1")]
WALLET, CREDIT_LINE = 150, 40


@dataclass
class Open:
    reservation: Reservation
    scope: Scope
    deadline_ns: int | None


@dataclass
class Model:
    spent: dict[Level, int] = field(default_factory=lambda: dict.fromkeys(BUDGETS, 0))
    held: dict[Level, int] = field(default_factory=lambda: dict.fromkeys(BUDGETS, 0))
    wallet_spent: int = 0
    wallet_held: int = 0
    open: dict[str, Open] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)  # id → actual
    closed: set[str] = field(default_factory=set)

    def levels(self, scope: Scope) -> list[Level]:
        return [lv for lv in scope.levels() if lv in BUDGETS]

    def first_misfit(self, scope: Scope, amount: int) -> Level | str | None:
        for level in self.levels(scope):
            if self.spent[level] + self.held[level] + amount > BUDGETS[level][1]:
                return level
        if self.wallet_spent + self.wallet_held + amount > WALLET + CREDIT_LINE:
            return "wallet"
        return None

    def move(self, o: Open, actual: int) -> None:
        amount = o.reservation.amount_nano
        for level in self.levels(o.scope):
            self.held[level] -= amount
            self.spent[level] += actual
        self.wallet_held -= amount
        self.wallet_spent += actual


class BudgetMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="ciyuan-budgets-"))
        self.clock = 0
        self.store = SqliteLedgerStore(self.dir / "l.db", clock=lambda: self.clock)
        self.billing = Billing(self.store, now=lambda: AT)
        for level, (period, amount) in BUDGETS.items():
            self.billing.set_budget(level, period, amount, "USD", "Asia/Shanghai")
        self.billing.open_wallet("acme", "USD", CREDIT_LINE)
        self.billing.top_up("acme", "USD", WALLET, "initial")
        self.model = Model()
        self.count = 0

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(scope=st.sampled_from(SCOPES), amount=st.integers(1, 40),
          timeout=st.sampled_from([0, 0, 5, 20]))
    def reserve(self, scope: Scope, amount: int, timeout: int) -> None:
        self.count += 1
        rid = f"r{self.count}"
        expected = self.model.first_misfit(scope, amount)
        try:
            r = self.billing.reserve(scope, rid, amount, "USD", timeout_s=timeout)
        except BudgetLevelExceededError as error:
            assert isinstance(expected, Level), (expected, error)
            assert error.details["account"] == f"budget:{expected.path}:" + (
                "2026-11-05" if BUDGETS[expected][0] == "day" else "2026-11")
            return
        except WalletInsufficientError:
            assert expected == "wallet"
            return
        assert expected is None, expected
        for level in self.model.levels(scope):
            self.model.held[level] += amount
        self.model.wallet_held += amount
        deadline = self.clock + timeout * S if timeout else None
        self.model.open[rid] = Open(r, scope, deadline)

    @precondition(lambda self: self.model.open)
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.model.open)))
        o = self.model.open.pop(rid)
        actual = data.draw(st.integers(0, o.reservation.amount_nano))
        self.billing.settle(o.reservation, actual)
        self.model.move(o, actual)
        self.model.settled[rid] = actual
        self.model.closed.add(rid)
        self.billing.settle(o.reservation, actual)  # a retry changes nothing

    @precondition(lambda self: self.model.open)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.model.open)))
        o = self.model.open.pop(rid)
        assert self.billing.release(o.reservation)
        self.model.move(o, 0)
        self.model.closed.add(rid)

    @precondition(lambda self: self.model.settled)
    @rule(data=st.data())
    def settle_again_differently(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.model.settled)))
        found = self.billing.find_reservation(rid, "USD")
        assert found is not None
        other = self.model.settled[rid] + 1
        try:
            self.billing.settle(found, other)
            raise AssertionError("a second, different settlement was accepted")
        except (ReservationInvalidError, ReservationClosedError):
            pass

    @rule(seconds=st.integers(1, 12))
    def time_passes(self, seconds: int) -> None:
        self.clock += seconds * S
        self.store.expire(self.clock)
        for rid, o in list(self.model.open.items()):
            if o.deadline_ns is not None and self.clock >= o.deadline_ns:
                del self.model.open[rid]
                self.model.move(o, 0)
                self.model.closed.add(rid)

    @invariant()
    def no_level_overshoots_and_totals_match(self) -> None:
        for status in self.billing.status(SCOPES[0]) + self.billing.status(SCOPES[2]):
            level = status.level
            assert status.spent_nano + status.reserved_nano <= status.limit_nano
            assert status.limit_nano == BUDGETS[level][1]
            assert status.spent_nano == self.model.spent[level]
            assert status.reserved_nano == self.model.held[level]
        wallet = self.billing.wallet("acme", "USD")
        assert wallet is not None and wallet.available_nano >= 0
        assert wallet.balance_nano == WALLET - self.model.wallet_spent
        assert wallet.reserved_nano == self.model.wallet_held


BudgetMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=40,
                                           deadline=None)
TestBudgetMachine = BudgetMachine.TestCase
