"""The compiled batch path (ciyuan.store._ledger_native) against the Python reference.

``batch_write`` runs either the C module or the pure engine + chain; for any state and batch
both must give the same results, the same journal rows (hashes included, so the same bytes
hashed), the same final balances and pendings and the same head. States and batches are
generated: limited and unlimited accounts in two units, balances up to the 64-bit bound,
stored plain and pending transfers in every status (some past their timeout), and batches
that mix plain, pending, post and void transfers, linked chains (closed, failing and left
open), retries of stored and of in-batch ids, bad flags, amounts and accounts, and ids and
metadata with quotes, backslashes, control characters and non-ASCII text.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ciyuan.ledger import (
    GENESIS_HASH,
    Account,
    AccountKind,
    Balance,
    LedgerState,
    PendingStatus,
    Transfer,
    TransferFlags,
)
from ciyuan.ledger.units import AMOUNT_MAX
from ciyuan.store import ledger_rows
from ciyuan.store.ledger_rows import BatchWrite, batch_write

pytestmark = pytest.mark.skipif(
    ledger_rows._ledger_native is None,
    reason="the C extension is not built (no compiler or OpenSSL headers at install); "
           "reinstall with `pip install -e .` where gcc and libssl-dev are present")

NOW = 1_700_000_000 * 10**9
F = TransferFlags
ACCOUNT_IDS = ["w1", "w2", "b1", "rev", "pay", "cny", "tok"]
TEXT = st.text(alphabet=st.sampled_from('ab"\\\n\t\x00\x1f\x7fé词元🙂 '), max_size=6)


def _accounts() -> dict[str, Account]:
    return {
        "w1": Account("w1", AccountKind.WALLET, "USD", "t1", debits_must_not_exceed_credits=True),
        "w2": Account("w2", AccountKind.WALLET, "USD", "t2", debits_must_not_exceed_credits=True,
                      credit_limit=5_000),
        "b1": Account("b1", AccountKind.BUDGET, "USD", "t1", debits_must_not_exceed_credits=True),
        "rev": Account("rev", AccountKind.PLATFORM_REVENUE, "USD", "platform"),
        "pay": Account("pay", AccountKind.PROVIDER_PAYABLE, "USD", "p",
                       credits_must_not_exceed_debits=True, credit_limit=10_000),
        "cny": Account("cny", AccountKind.WALLET, "CNY", "t3"),
        "tok": Account("tok", AccountKind.TOKEN_PACK, "TOKEN:gpt-4o", "t1",
                       debits_must_not_exceed_credits=True),
    }


amounts = st.one_of(st.integers(1, 20_000), st.integers(-5, 0),
                    st.integers(AMOUNT_MAX - 10, AMOUNT_MAX), st.just(AMOUNT_MAX // 2 + 1))
balance_values = st.one_of(st.integers(0, 50_000), st.integers(AMOUNT_MAX - 30_000, AMOUNT_MAX))


@st.composite
def states(draw: st.DrawFn) -> LedgerState:
    accounts = _accounts()
    transfers, pendings = {}, {}
    held = dict.fromkeys(ACCOUNT_IDS, 0)  # pending amounts: a consistent state holds them
    for k in range(draw(st.integers(0, 6))):
        debit, credit = draw(st.sampled_from(["w1", "w2", "b1"])), draw(st.sampled_from(
            ["rev", "pay"]))
        pending = draw(st.booleans())
        t = Transfer(f"s{k}", debit, credit, draw(st.integers(1, 20_000)),
                     flags=F.PENDING if pending else F.NONE,
                     timeout_s=draw(st.sampled_from([0, 1, 60])) if pending else 0,
                     metadata=draw(st.lists(st.tuples(TEXT, TEXT), max_size=2)),
                     timestamp_ns=NOW - draw(st.sampled_from([0, 30, 120])) * 10**9)
        transfers[t.id] = t
        if pending:
            pendings[t.id] = draw(st.sampled_from(list(PendingStatus)))
            if pendings[t.id] is PendingStatus.PENDING:
                held[debit] += t.amount
                held[credit] += t.amount
    known = draw(st.lists(st.sampled_from(ACCOUNT_IDS), unique=True, max_size=7))
    balances = {account_id: Balance(held[account_id] + draw(st.integers(0, 30_000)),
                                    draw(balance_values),
                                    held[account_id] + draw(st.integers(0, 30_000)),
                                    draw(balance_values))
                for account_id in {*known, *(a for a, h in held.items() if h)}}
    return LedgerState(accounts, balances, transfers, pendings)


@st.composite
def batches(draw: st.DrawFn, stored: dict[str, Transfer]) -> list[Transfer]:
    batch: list[Transfer] = []
    stored_ids = list(stored)
    for k in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["plain", "pending", "post", "void", "retry", "odd"]))
        debit = draw(st.sampled_from([*ACCOUNT_IDS, "nope"]))
        credit = draw(st.sampled_from([*ACCOUNT_IDS, "nope"]))
        flags = F.LINKED if draw(st.integers(0, 3)) == 0 else F.NONE
        ids = [t.id for t in batch] + stored_ids
        tid = draw(st.one_of(st.just(f"t{k}"), TEXT.filter(bool).map(lambda s: "x" + s)))
        metadata = draw(st.lists(st.tuples(TEXT, TEXT), max_size=3))
        amount = draw(amounts)
        if kind == "retry" and ids:
            original = draw(st.sampled_from([*batch, *[None] * len(stored_ids)]))
            if original is not None and draw(st.booleans()):
                batch.append(Transfer(original.id, original.debit_account_id,
                                      original.credit_account_id, original.amount,
                                      original.code, original.flags, original.pending_id,
                                      original.timeout_s, original.metadata))
                continue
            tid = draw(st.sampled_from(ids))
        if kind in ("post", "void"):
            pendings = {t.id: t for t in batch if TransferFlags.PENDING in t.flags}
            pendings |= {i: t for i, t in stored.items() if TransferFlags.PENDING in t.flags}
            target = draw(st.sampled_from([*pendings, *stored, "missing"]))
            if target in pendings and draw(st.integers(0, 4)):  # mostly the right accounts
                held = pendings[target]
                debit, credit = held.debit_account_id, held.credit_account_id
                above = min(held.amount + 1, AMOUNT_MAX)  # a Transfer holds at most that
                amount = draw(st.sampled_from([held.amount, held.amount - 1, above, 1, amount]))
            batch.append(Transfer(tid, debit, credit, amount,
                                  flags=flags | (F.POST_PENDING if kind == "post"
                                                 else F.VOID_PENDING), pending_id=target,
                                  metadata=metadata))
        elif kind == "odd":
            batch.append(Transfer(tid, debit, credit, amount, code=draw(TEXT.filter(bool)),
                                  flags=flags | draw(st.sampled_from(
                                      [F.PENDING | F.POST_PENDING, F.POST_PENDING, F.NONE])),
                                  pending_id=draw(st.sampled_from(["", "s0", "t0"])),
                                  timeout_s=draw(st.sampled_from([0, 5])), metadata=metadata))
        else:
            pending = kind == "pending"
            batch.append(Transfer(tid, debit, credit, amount,
                                  flags=flags | (F.PENDING if pending else F.NONE),
                                  timeout_s=draw(st.sampled_from([0, 1, 300])) if pending
                                  else 0, metadata=metadata))
    return batch


def _both(state: LedgerState, batch: list[Transfer], expire: list[str],
          now_ns: int = NOW) -> tuple[BatchWrite, BatchWrite]:
    python = batch_write(state, batch, now_ns, 7, GENESIS_HASH, expire=expire, native=False)
    native = batch_write(state, batch, now_ns, 7, GENESIS_HASH, expire=expire, native=True)
    return python, native


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_batches_equal_the_python_reference(data: st.DataObject) -> None:
    state = data.draw(states())
    batch = data.draw(batches(dict(state.transfers)))
    expire = data.draw(st.lists(st.sampled_from([*state.transfers, "x"]), max_size=3))
    python, native = _both(state, batch, expire)
    assert native.results == python.results
    assert native.rows == python.rows
    assert native.balances == python.balances
    assert native.pendings == python.pendings
    assert (native.seq, native.head_hash) == (python.seq, python.head_hash)
    every = data.draw(st.integers(1, 4))
    chunks = _sunk(state, batch, expire, every, native=True)
    assert [row for chunk in chunks for row in chunk] == python.rows
    for chunk in chunks[:-1]:  # the expiries come first, in a list of their own
        assert len(chunk) >= every or {row[1] for row in chunk} == {"expiry"}
    for chunk in chunks:  # a chunk never ends inside a linked chain: one can still fail
        assert chunk[-1][1] == "expiry" or not chunk[-1][7] & F.LINKED


def _sunk(state: LedgerState, batch: list[Transfer], expire: list[str], every: int, *,
          native: bool) -> list[list[ledger_rows.JournalRow]]:
    """The lists of rows ``batch_write`` hands its sink, ``every`` rows per call."""
    chunks: list[list[ledger_rows.JournalRow]] = []
    saved, ledger_rows.SINK_ROWS = ledger_rows.SINK_ROWS, every
    try:
        written = batch_write(state, batch, NOW, 7, GENESIS_HASH, expire=expire,
                              native=native, sink=chunks.append)
    finally:
        ledger_rows.SINK_ROWS = saved
    assert [row for chunk in chunks for row in chunk] == written.rows
    return chunks


def test_a_linked_chain_that_fails_is_undone_whole() -> None:
    state = LedgerState(_accounts(), {"w1": Balance(credits_posted=100)})
    batch = [Transfer("a", "w1", "rev", 60, flags=F.LINKED | F.PENDING),
             Transfer("b", "w1", "rev", 30, flags=F.LINKED),
             Transfer("c", "w1", "rev", 20),  # 60 + 30 + 20 > 100: the chain fails
             Transfer("d", "w1", "rev", 100)]
    python, native = _both(state, batch, [])
    assert native.results == python.results == [
        "linked-event-failed", "linked-event-failed", "exceeds-credits", "ok"]
    assert native.rows == python.rows and len(native.rows) == 1
    assert native.pendings == python.pendings == {}
    assert native.balances == python.balances == {
        "rev": Balance(credits_posted=100), "w1": Balance(debits_posted=100,
                                                           credits_posted=100)}


def test_strings_are_escaped_as_json_escapes_them() -> None:
    odd = 'q"b\\n\n\t\x00\x1f\x7f词🙂'
    state = LedgerState(_accounts(), {"w1": Balance(credits_posted=10)})
    batch = [Transfer("id" + odd, "w1", "rev", 1, code="c" + odd, metadata=((odd, odd),))]
    python, native = _both(state, batch, [])
    assert native.rows == python.rows and native.rows[0][10] == python.rows[0][10]


def test_times_past_the_compiled_range_take_the_python_path() -> None:
    state = LedgerState(_accounts(), {"w1": Balance(credits_posted=10)})
    batch = [Transfer("p", "w1", "rev", 1, flags=F.PENDING, timeout_s=10**9)]
    python, native = _both(state, batch, [], now_ns=2**62 + 5)
    assert native == python
    assert native.pendings == {"p": ("pending", 2**62 + 5 + 10**18)}


def test_the_sink_gets_rows_as_they_become_final() -> None:
    state = LedgerState(_accounts(), {"w1": Balance(credits_posted=100)})
    batch = [Transfer("a", "w1", "rev", 1), Transfer("b", "w1", "rev", 1, flags=F.LINKED),
             Transfer("c", "w1", "rev", 1, flags=F.LINKED), Transfer("d", "w1", "rev", 1),
             Transfer("e", "w1", "rev", 500), Transfer("f", "w1", "rev", 1)]
    chunks = _sunk(state, batch, [], 1, native=True)
    assert [[row[2] for row in chunk] for chunk in chunks] == [["a"], ["b", "c", "d"], ["f"]]
    python = _sunk(state, batch, [], 1, native=False)
    assert [[row[2] for row in chunk] for chunk in python] == [["a", "b", "c", "d", "f"]]
    assert _sunk(state, [Transfer("x", "w1", "rev", 500)], [], 1, native=True) == []


def test_an_error_in_the_sink_stops_the_batch() -> None:
    state = LedgerState(_accounts(), {"w1": Balance(credits_posted=100)})
    batch = [Transfer(f"t{i}", "w1", "rev", 1) for i in range(3)]
    seen: list[object] = []

    def sink(rows: list[ledger_rows.JournalRow]) -> None:
        seen.append(rows)
        raise OSError("the database went away")

    with pytest.raises(OSError, match="went away"):
        batch_write(state, batch, NOW, 7, GENESIS_HASH, native=True, sink=sink)
    assert len(seen) == 1


# -- binary COPY encoding ---------------------------------------------------------------------

INT8 = st.integers(-(2**63), 2**63 - 1)
INT4 = st.integers(-(2**31), 2**31 - 1)
TEXT = st.text(max_size=40)
COLUMN = {ord("q"): INT8, ord("i"): INT4, ord("t"): TEXT}


@st.composite
def copy_rows(draw: st.DrawFn) -> tuple[bytes, list[tuple[object, ...]]]:
    layout = bytes(draw(st.lists(st.sampled_from(b"qit"), min_size=1, max_size=16)))
    rows = draw(st.lists(st.tuples(*(st.none() | COLUMN[kind] for kind in layout)),
                         max_size=12))
    return layout, rows


def python_copy_binary(rows: list[tuple[object, ...]], layout: bytes,
                       monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(ledger_rows, "NATIVE", False)
        return ledger_rows.copy_binary(rows, layout)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copy_rows())
def test_compiled_copy_encoding_equals_the_python_reference(
        case: tuple[bytes, list[tuple[object, ...]]]) -> None:
    layout, rows = case
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = python_copy_binary(rows, layout, monkeypatch)
    assert ledger_rows._ledger_native is not None
    assert ledger_rows._ledger_native.copy_binary(rows, layout) == expected


def test_copy_encoding_is_postgresql_binary_format() -> None:
    """Field count, then per field a 32-bit length (-1: NULL) and the big-endian value or
    the UTF-8 text (PostgreSQL's documentation of COPY's binary format)."""
    native = ledger_rows._ledger_native
    assert native is not None
    encoded = native.copy_binary([(-2, "é", 7, None)], b"qtit")
    assert encoded == (b"\x00\x04" + b"\x00\x00\x00\x08" + (-2).to_bytes(8, "big", signed=True)
                       + b"\x00\x00\x00\x02" + "é".encode() + b"\x00\x00\x00\x04\x00\x00\x00\x07"
                       + b"\xff\xff\xff\xff")


@pytest.mark.parametrize(("rows", "layout", "error"), [
    ([(1, 2)], b"q", ValueError),                    # a row longer than the layout
    ([(2**31,)], b"i", OverflowError),               # past int4
    ([(2**63,)], b"q", OverflowError),               # past int8
    ([("1",)], b"q", TypeError),                     # text in an integer column
    ([(1,)], b"t", TypeError),                       # an int in a text column
    ([["a"]], b"t", ValueError),                     # a list, not a tuple
    ([("a",)], b"x", ValueError),                    # an unknown column kind
    ([("\ud800",)], b"t", UnicodeEncodeError),       # a lone surrogate is not UTF-8
])
def test_copy_encoding_refuses_what_postgresql_would_not_take(
        rows: list[tuple[object, ...]], layout: bytes, error: type[Exception]) -> None:
    native = ledger_rows._ledger_native
    assert native is not None
    with pytest.raises(error):
        native.copy_binary(rows, layout)
