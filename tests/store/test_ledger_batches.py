"""A batch is its chains one after another: the batch path agrees with the chain-by-chain one.

``test_ledger_stateful.py`` holds single transfers and linked chains, one per call, to a
reference model. Here a whole batch of chains goes in one call (one transaction, one engine
pass, one write: on PostgreSQL a COPY from ``COPY_MIN_ROWS`` rows) to one store, and the same
chains one call each to a second store. Results, balances and the set of journal entries
must agree, and both journals must verify. The transfers reuse a small pool of ids, so a
batch holds retries (same and changed bodies) of earlier and of its own transfers, posts
and voids of pendings it creates itself, and failing chains whose effects must be undone.

One difference is by design: a submission releases every due pending it names before its
first transfer (its transfers all happen at one ``now_ns``), where chain-by-chain calls release
each one only when its own chain arrives. So before each round both stores run
``expire(now_ns)``, and ``test_a_submission_releases_the_due_pendings_it_names_first`` holds
that rule on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_targets import Backend, Target

from ciyuan.ledger import Account, AccountKind, Result, Transfer, TransferFlags
from ciyuan.store import LedgerStore
from ciyuan.store.postgres_schema import COPY_MIN_ROWS

F = TransferFlags
S = 10**9  # ns per second
ACCOUNTS = [
    Account("funding", AccountKind.FUNDING, "USD", "platform"),
    Account("w1", AccountKind.WALLET, "USD", "t1", debits_must_not_exceed_credits=True),
    Account("budget", AccountKind.BUDGET, "USD", "t1", debits_must_not_exceed_credits=True,
            credit_limit=40),
    Account("revenue", AccountKind.PLATFORM_REVENUE, "USD", "platform"),
    Account("payable", AccountKind.PROVIDER_PAYABLE, "USD", "p1",
            credits_must_not_exceed_debits=True, credit_limit=300),
    Account("tokens", AccountKind.FUNDING, "TOKEN", "platform"),
]
PAIRS = [("funding", "w1"), ("funding", "budget"), ("w1", "revenue"), ("budget", "revenue"),
         ("revenue", "payable"), ("w1", "budget"), ("w1", "tokens"), ("w1", "w1")]
#: Ids drawn from a pool this small repeat within and across batches (retries, conflicts).
ID_POOL = 40

legs = st.tuples(
    st.sampled_from(["plain", "plain", "reserve", "post", "void"]),
    st.integers(0, ID_POOL - 1), st.sampled_from(PAIRS), st.integers(1, 150),
    st.integers(0, ID_POOL - 1), st.sampled_from([0, 1, 5, 30]))
chains = st.lists(legs, min_size=1, max_size=3)
#: Each batch: chains whose legs add up to about 1-40 transfers, so PostgreSQL batches come
#: out both below and above COPY_MIN_ROWS.
batches = st.lists(chains, min_size=1, max_size=14)
rounds = st.lists(st.tuples(batches, st.integers(0, 20)), min_size=1, max_size=3)


def transfer(leg: tuple[str, int, tuple[str, str], int, int, int], linked: bool) -> Transfer:
    kind, n, (debit, credit), amount, pending_n, timeout_s = leg
    flags = F.LINKED if linked else F.NONE
    if kind == "reserve":
        return Transfer(f"t{n}", debit, credit, amount, flags=flags | F.PENDING,
                        timeout_s=timeout_s)
    if kind in ("post", "void"):
        phase = F.POST_PENDING if kind == "post" else F.VOID_PENDING
        return Transfer(f"t{n}", debit, credit, amount, flags=flags | phase,
                        pending_id=f"t{pending_n}")
    return Transfer(f"t{n}", debit, credit, amount, flags=flags)


def as_transfers(chain: list[tuple[str, int, tuple[str, str], int, int, int]]) -> list[Transfer]:
    return [transfer(leg, linked=i < len(chain) - 1) for i, leg in enumerate(chain)]


class Pair:
    """Two empty ledgers of one backend, reused (reset) from one example to the next."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.targets: list[Target] = []

    @contextmanager
    def open(self) -> Iterator[tuple[LedgerStore, LedgerStore]]:
        if self.targets:
            for target in self.targets:
                target.reset()
        else:
            self.targets = [self.backend.fresh(), self.backend.fresh()]
        clock = lambda: 1  # noqa: E731 (every call passes now_ns)
        stores = [target.open(clock=clock) for target in self.targets]
        try:
            for store in stores:
                store.create_accounts(ACCOUNTS)
                store.submit([Transfer("seed-w1", "funding", "w1", 500),
                              Transfer("seed-budget", "funding", "budget", 100)], now_ns=1)
            yield stores[0], stores[1]
        finally:
            for store in stores:
                store.close()


def journal_set(store: LedgerStore) -> list[tuple[str, Transfer]]:
    return sorted(((e.kind, e.transfer) for e in store.journal()),
                  key=lambda entry: (entry[0], entry[1].id))


def test_a_batch_equals_its_chains_one_by_one(backend: Backend) -> None:
    pair = Pair(backend)
    examples = 100 if backend.name == "sqlite" else 40
    seen_sizes: set[bool] = set()

    @settings(max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(rounds)
    def check(plan: list[tuple[list[list[tuple[str, int, tuple[str, str], int, int, int]]],
                               int]]) -> None:
        now_ns = 2 * S
        with pair.open() as (batched, one_by_one):
            for chain_legs, seconds in plan:
                now_ns += seconds * S
                split = [as_transfers(legs) for legs in chain_legs]
                batch = [t for chain in split for t in chain]
                seen_sizes.add(len(batch) >= COPY_MIN_ROWS)
                assert batched.expire(now_ns) == one_by_one.expire(now_ns)
                expected = [r for chain in split for r in one_by_one.submit(chain, now_ns)]
                assert batched.submit(batch, now_ns) == expected, batch
            ids = [a.id for a in ACCOUNTS]
            assert batched.balances(ids) == one_by_one.balances(ids)
            assert journal_set(batched) == journal_set(one_by_one)
            for store in (batched, one_by_one):
                report = store.verify()
                assert report.ok, report

    check()
    assert seen_sizes == {False, True}, "batches on both sides of COPY_MIN_ROWS"


def test_a_submission_releases_the_due_pendings_it_names_first(backend: Backend) -> None:
    """A hold that is due is released before the submission's first transfer, even when the
    post naming it comes later in the same submission: an earlier transfer may spend it."""
    pair = Pair(backend)
    with pair.open() as (store, _):
        hold = Transfer("hold", "w1", "revenue", 450, flags=F.PENDING, timeout_s=5)
        assert store.submit([hold], now_ns=2 * S) == [Result.OK]
        spend = Transfer("spend", "w1", "revenue", 400)
        post = Transfer("late-post", "w1", "revenue", 450, flags=F.POST_PENDING,
                        pending_id="hold")
        assert store.submit([spend, post], now_ns=8 * S) == [Result.OK, Result.PENDING_EXPIRED]
        w1 = store.balance("w1")
        assert (w1.debits_posted, w1.debits_pending) == (400, 0)
        kinds = [(e.kind, e.transfer.id) for e in store.journal()][-2:]
        assert kinds == [("expiry", "hold"), ("transfer", "spend")]
        assert store.verify().ok
