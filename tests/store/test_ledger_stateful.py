"""Stateful property test: each ledger store against a small, independent reference model.

Runs on SQLite and on PostgreSQL (the ``backend`` fixture), an empty ledger per example.
After every step: each unit sums to zero, no limited account passes its limit, pending
totals equal the open reservations, balances match the model, the hash chain verifies and
a replay of the journal gives the stored balances. Retries with the same key change
nothing; a changed body is refused.

Steps: ``EXAMPLES`` × up to ``STEPS`` per store in ``make test``; the test asserts that at
least 25 steps per example ran, so the default run keeps its bar (≥ 5,000 steps across both
stores, and on SQLite alone when PostgreSQL is off: about 6,000 on SQLite and 3,000 on
PostgreSQL). ``benchmarks/soak_ledger.py`` runs many more.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from store_targets import Backend, Target

from ciyuan.ledger import Account, AccountKind, Balance, Result, Transfer, TransferFlags

F = TransferFlags
S = 10**9  # ns per second
ACCOUNTS = [
    Account("funding", AccountKind.FUNDING, "USD", "platform"),
    Account("w1", AccountKind.WALLET, "USD", "t1", debits_must_not_exceed_credits=True),
    Account("w2", AccountKind.WALLET, "USD", "t2", debits_must_not_exceed_credits=True),
    Account("budget", AccountKind.BUDGET, "USD", "t1", debits_must_not_exceed_credits=True,
            credit_limit=50),
    Account("revenue", AccountKind.PLATFORM_REVENUE, "USD", "platform"),
    Account("payable", AccountKind.PROVIDER_PAYABLE, "USD", "p1",
            credits_must_not_exceed_debits=True, credit_limit=300),
    Account("tokens", AccountKind.FUNDING, "TOKEN", "platform"),
    Account("pack", AccountKind.TOKEN_PACK, "TOKEN", "t1", debits_must_not_exceed_credits=True),
]
BY_ID = {a.id: a for a in ACCOUNTS}
account_ids = st.sampled_from([*BY_ID, "ghost"])
#: Pairs that make sense (top-ups, spending, payouts); drawn three times as often as any pair.
USEFUL_PAIRS = [("funding", "w1"), ("funding", "w2"), ("funding", "budget"), ("w1", "revenue"),
                ("w2", "revenue"), ("budget", "revenue"), ("w1", "w2"), ("revenue", "payable"),
                ("payable", "funding"), ("tokens", "pack"), ("pack", "tokens")]
useful = st.sampled_from(USEFUL_PAIRS)
pairs = useful | useful | useful | st.tuples(account_ids, account_ids)
amounts = st.integers(1, 200)


@dataclass
class Model:
    """Balances as four ints per account, stored transfers, open/closed pendings."""

    balances: dict[str, list[int]] = field(
        default_factory=lambda: {a: [0, 0, 0, 0] for a in BY_ID})  # dp, dpost, cp, cpost
    stored: dict[str, Transfer] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)

    def expire(self, now_ns: int, only: set[str] | None = None) -> int:
        count = 0
        for pid, status in self.status.items():
            p = self.stored[pid]
            due = p.timeout_s and now_ns >= p.timestamp_ns + p.timeout_s * S
            if status == "pending" and due and (only is None or pid in only):
                self.move(p, p.amount, 0)
                self.status[pid], count = "expired", count + 1
        return count

    def move(self, t: Transfer, pending: int, posted: int) -> None:
        d, c = self.balances[t.debit_account_id], self.balances[t.credit_account_id]
        d[0] -= pending
        c[2] -= pending
        d[1] += posted
        c[3] += posted

    def check(self, t: Transfer, now_ns: int) -> Result:  # noqa: PLR0911 (a list of rules)
        if t.id in self.stored:
            same = self.stored[t.id] == t.stamped(self.stored[t.id].timestamp_ns)
            return Result.OK if same else Result.EXISTS_WITH_DIFFERENT_FIELDS
        if t.debit_account_id == t.credit_account_id:
            return Result.ACCOUNTS_MUST_BE_DIFFERENT
        if t.debit_account_id not in BY_ID or t.credit_account_id not in BY_ID:
            return Result.ACCOUNT_NOT_FOUND
        if BY_ID[t.debit_account_id].unit != BY_ID[t.credit_account_id].unit:
            return Result.CURRENCY_MISMATCH
        if t.flags & (F.POST_PENDING | F.VOID_PENDING):
            p = self.stored.get(t.pending_id)
            if p is None:
                return Result.PENDING_NOT_FOUND
            if (p.debit_account_id, p.credit_account_id) != (
                    t.debit_account_id, t.credit_account_id):
                return Result.PENDING_DIFFERENT_ACCOUNTS
            status = self.status[p.id]
            if status != "pending":
                return Result(f"pending-already-{status}" if status != "expired"
                              else "pending-expired")
            if F.POST_PENDING in t.flags and t.amount > p.amount:
                return Result.EXCEEDS_PENDING_AMOUNT
            if F.VOID_PENDING in t.flags and t.amount != p.amount:
                return Result.VOID_AMOUNT_MISMATCH
            return Result.OK
        debit, credit = BY_ID[t.debit_account_id], BY_ID[t.credit_account_id]
        d, c = self.balances[debit.id], self.balances[credit.id]
        if debit.debits_must_not_exceed_credits and (
                d[0] + d[1] + t.amount > d[3] + debit.credit_limit):
            return Result.EXCEEDS_CREDITS
        if credit.credits_must_not_exceed_debits and (
                c[2] + c[3] + t.amount > c[1] + credit.credit_limit):
            return Result.EXCEEDS_DEBITS
        return Result.OK

    def apply(self, t: Transfer, now_ns: int) -> None:
        stored = t.stamped(now_ns)
        self.stored[t.id] = stored
        if t.flags & (F.POST_PENDING | F.VOID_PENDING):
            posted = t.amount if F.POST_PENDING in t.flags else 0
            self.move(t, self.stored[t.pending_id].amount, posted)
            self.status[t.pending_id] = "posted" if posted else "voided"
        elif F.PENDING in t.flags:
            self.move(t, -t.amount, 0)
            self.status[t.id] = "pending"
        else:
            self.move(t, 0, t.amount)

    def submit(self, batch: list[Transfer], now_ns: int) -> list[Result]:
        """The model of one linked chain (or a single transfer)."""
        self.expire(now_ns, {t.pending_id for t in batch if t.pending_id})
        saved = copy.deepcopy((self.balances, self.stored, self.status))
        results = []
        for t in batch:
            result = self.check(t, now_ns)
            if result is not Result.OK:
                self.balances, self.stored, self.status = saved
                return [r if r is not Result.OK else Result.LINKED_EVENT_FAILED
                        for r in results] + [result] + [Result.LINKED_EVENT_FAILED] * (
                    len(batch) - len(results) - 1)
            if t.id not in self.stored:
                self.apply(t, now_ns)
            results.append(result)
        return results


class Reuse:
    """Hands each example an empty ledger: fresh the first time, then the same one reset
    (examples run one after another; a reset is cheaper than new tables)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.free: Target | None = None

    def take(self) -> Target:
        target, self.free = self.free, None
        if target is None:
            return self.backend.fresh()
        target.reset()
        return target

    def give_back(self, target: Target) -> None:
        self.free = target


@dataclass
class Counter:
    """Examples run and steps taken (invariants run once after setup, then after each step)."""

    examples: int = 0
    checks: int = 0

    @property
    def steps(self) -> int:
        return self.checks - self.examples


class LedgerMachine(RuleBasedStateMachine):
    submitted = Bundle("submitted")
    pendings = Bundle("pendings")

    def __init__(self, targets: Reuse, counter: Counter) -> None:
        super().__init__()
        self.now_ns, self.next_id = 1, 0
        self.targets, self.target, self.counter = targets, targets.take(), counter
        self.store = self.target.open(clock=lambda: self.now_ns)
        assert set(self.store.create_accounts(ACCOUNTS)) == {Result.OK}
        self.model = Model()
        counter.examples += 1

    def new_id(self) -> str:
        self.next_id += 1
        return f"t{self.next_id}"

    def submit(self, batch: list[Transfer]) -> list[Result]:
        got = self.store.submit(batch, now_ns=self.now_ns)
        assert got == self.model.submit(batch, self.now_ns), batch
        return got

    @rule(target=submitted, pair=pairs, amount=amounts)
    def plain(self, pair: tuple[str, str], amount: int) -> Transfer:
        t = Transfer(self.new_id(), *pair, amount)
        self.submit([t])
        return t

    @rule(target=pendings, pair=pairs, amount=amounts, timeout_s=st.sampled_from([0, 1, 5, 30]))
    def reserve(self, pair: tuple[str, str], amount: int, timeout_s: int) -> Transfer:
        t = Transfer(self.new_id(), *pair, amount, flags=F.PENDING, timeout_s=timeout_s)
        self.submit([t])
        return t

    @rule(target=submitted, p=pendings, amount=amounts, void=st.booleans())
    def resolve(self, p: Transfer, amount: int, void: bool) -> Transfer:
        flags, amount = (F.VOID_PENDING, p.amount) if void else (F.POST_PENDING, amount)
        t = Transfer(self.new_id(), p.debit_account_id, p.credit_account_id, amount,
                     flags=flags, pending_id=p.id)
        self.submit([t])
        return t

    @rule(t=st.one_of(submitted, pendings))
    def retry_same_body(self, t: Transfer) -> None:
        stored = self.model.stored.get(t.id)
        result = self.submit([t])  # the model applies nothing for a stored key
        if stored is not None and stored.same_body(t):
            assert result == [Result.OK]

    @rule(t=st.one_of(submitted, pendings), extra=st.integers(1, 5))
    def retry_other_body(self, t: Transfer, extra: int) -> None:
        other = Transfer(t.id, t.debit_account_id, t.credit_account_id, t.amount + extra,
                         flags=t.flags, pending_id=t.pending_id, timeout_s=t.timeout_s)
        stored = self.model.stored.get(t.id)
        result = self.submit([other])
        if stored is not None and not stored.same_body(other):
            assert result == [Result.EXISTS_WITH_DIFFERENT_FIELDS]

    @rule(legs=st.lists(st.tuples(pairs, amounts).map(lambda x: (*x[0], x[1])), min_size=2,
                        max_size=4))
    def linked(self, legs: list[tuple[str, str, int]]) -> None:
        batch = [Transfer(self.new_id(), d, c, a, flags=F.LINKED if i < len(legs) - 1 else F.NONE)
                 for i, (d, c, a) in enumerate(legs)]
        self.submit(batch)

    @rule(seconds=st.integers(0, 20))
    def tick(self, seconds: int) -> None:
        self.now_ns += seconds * S

    @rule()
    def expire(self) -> None:
        assert self.store.expire(self.now_ns) == self.model.expire(self.now_ns)

    @precondition(lambda self: self.next_id % 7 == 0)
    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = self.target.open(clock=lambda: self.now_ns)

    @invariant()
    def matches_model_and_holds_invariants(self) -> None:
        self.counter.checks += 1
        got = self.store.balances(BY_ID)
        assert got == {a: Balance(*b) for a, b in self.model.balances.items()}
        for unit in {a.unit for a in ACCOUNTS}:
            ids = [a.id for a in ACCOUNTS if a.unit == unit]
            assert sum(got[i].credits_posted - got[i].debits_posted for i in ids) == 0, unit
            assert sum(got[i].credits_pending - got[i].debits_pending for i in ids) == 0, unit
        for a in ACCOUNTS:
            b = got[a.id]
            if a.debits_must_not_exceed_credits:
                assert b.debits_pending + b.debits_posted <= b.credits_posted + a.credit_limit
            if a.credits_must_not_exceed_debits:
                assert b.credits_pending + b.credits_posted <= b.debits_posted + a.credit_limit
        open_debits = {a: 0 for a in BY_ID}
        for pid, status in self.model.status.items():
            if status == "pending":
                p = self.model.stored[pid]
                open_debits[p.debit_account_id] += p.amount
        assert {a: got[a].debits_pending for a in BY_ID} == open_debits

    @invariant()
    def chain_and_replay_verify(self) -> None:
        report = self.store.verify()
        assert report.ok, report

    def teardown(self) -> None:
        self.store.close()
        self.targets.give_back(self.target)


#: Examples per store in the default run (a PostgreSQL step costs ~5 round trips, so it gets
#: fewer); CIYUAN_STATEFUL_EXAMPLES sets both (benchmarks/soak_ledger.py raises it).
EXAMPLES = {"sqlite": 120, "postgresql": 60}
STEPS = 60
#: Hypothesis ends some examples early (about 50 steps each on average); 25 per example
#: is the floor the test asserts (3,000 on SQLite, 1,500 on PostgreSQL).
MIN_STEPS_PER_EXAMPLE = 25


def test_ledger_state_machine(backend: Backend) -> None:
    examples = int(os.environ.get("CIYUAN_STATEFUL_EXAMPLES", EXAMPLES[backend.name]))
    counter, targets = Counter(), Reuse(backend)
    run_state_machine_as_test(
        lambda: LedgerMachine(targets, counter),
        settings=settings(max_examples=examples, stateful_step_count=STEPS, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.filter_too_much]))
    print(f"{backend.name}: {counter.examples} examples, {counter.steps} steps")
    assert counter.steps >= examples * MIN_STEPS_PER_EXAMPLE, counter
