"""The pure ledger engine: (state, transfers, now) → new state, one result per transfer.

No I/O. A store loads the part of the state a batch touches, runs :func:`apply_batch` under
its write lock and writes back the :class:`Effect` list and the touched balances; the
in-memory :func:`apply` is the same function for one transfer. Rules follow TigerBeetle:
limits are checked pessimistically (pending debits count against the balance), a pending
resolves at most once, linked chains are all-or-nothing, and a retry with the same id and
fields is a no-op that returns ``ok``.

Speed: a batch of 8,190 runs in one pass. Flags are read once per transfer as a plain int
(``IntFlag`` arithmetic costs a Python call per operator), balances are kept as 4-tuples of
ints while the batch runs and become :class:`Balance` values once at the end, a transfer is
stamped without re-running its field checks, and a linked chain is undone from a log of what
it changed (not by copying the whole working state when it starts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ciyuan.ledger.model import Account, Balance, PendingStatus, Transfer, TransferFlags
from ciyuan.ledger.results import Result
from ciyuan.ledger.units import AMOUNT_MAX

__all__ = ["BatchOutcome", "Effect", "LedgerState", "apply", "apply_batch", "expire_due"]

EntryKind = Literal["transfer", "expiry"]
_LINKED = int(TransferFlags.LINKED)
_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING)
_VOID = int(TransferFlags.VOID_PENDING)
_RESOLVES = _POST | _VOID
_PHASES = _PENDING | _POST | _VOID
#: Balances while a batch runs: (debits_pending, debits_posted, credits_pending, credits_posted).
_Sums = tuple[int, int, int, int]
_ZERO: _Sums = (0, 0, 0, 0)
_NO_PENDINGS: Mapping[str, PendingStatus] = MappingProxyType({})
_DONE = {PendingStatus.POSTED: Result.PENDING_ALREADY_POSTED,
         PendingStatus.VOIDED: Result.PENDING_ALREADY_VOIDED,
         PendingStatus.EXPIRED: Result.PENDING_EXPIRED}


@dataclass(frozen=True)
class LedgerState:
    """Accounts, their balances, stored transfers by id and the status of each pending."""

    accounts: Mapping[str, Account] = field(default_factory=dict)
    balances: Mapping[str, Balance] = field(default_factory=dict)
    transfers: Mapping[str, Transfer] = field(default_factory=dict)
    pendings: Mapping[str, PendingStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """What one accepted transfer (or one expiry) adds: a journal entry and the new status of
    the pending it creates or resolves (none for a plain transfer). The balances it moves are
    those of its two accounts in the outcome's state."""

    kind: EntryKind
    transfer: Transfer
    pendings: Mapping[str, PendingStatus]


@dataclass(frozen=True)
class BatchOutcome:
    state: LedgerState
    results: tuple[Result, ...]
    effects: tuple[Effect, ...]


class _Work:
    """Mutable working copy of a state while a batch runs, with an undo log for chains."""

    def __init__(self, state: LedgerState) -> None:
        self.accounts = state.accounts
        self.base = state.balances
        self.sums: dict[str, _Sums] = {}
        self.transfers = dict(state.transfers)
        self.pendings = dict(state.pendings)
        self.effects: list[Effect] = []
        self.undo: list[tuple[str, PendingStatus | None]] = []  # pending id, status before

    def sums_of(self, account_id: str) -> _Sums:
        sums = self.sums.get(account_id)
        if sums is None:
            b = self.base.get(account_id)
            sums = _ZERO if b is None else (b.debits_pending, b.debits_posted,
                                            b.credits_pending, b.credits_posted)
        return sums

    def snapshot(self) -> tuple[dict[str, _Sums], int, int]:
        return dict(self.sums), len(self.effects), len(self.undo)

    def restore(self, snap: tuple[dict[str, _Sums], int, int]) -> None:
        self.sums, count, undone = snap
        for effect in self.effects[count:]:
            if effect.kind == "transfer":
                del self.transfers[effect.transfer.id]
        for pending_id, before in reversed(self.undo[undone:]):
            if before is None:
                del self.pendings[pending_id]
            else:
                self.pendings[pending_id] = before
        del self.effects[count:], self.undo[undone:]

    def commit(self, effect: Effect, debit: _Sums, credit: _Sums) -> None:
        t = effect.transfer
        self.sums[t.debit_account_id], self.sums[t.credit_account_id] = debit, credit
        for pending_id, status in effect.pendings.items():
            self.undo.append((pending_id, self.pendings.get(pending_id)))
            self.pendings[pending_id] = status
        if effect.kind == "transfer":
            self.transfers[t.id] = t
        self.effects.append(effect)

    def state(self) -> LedgerState:
        balances = dict(self.base)
        balances.update({i: Balance(*s) for i, s in self.sums.items()})
        return LedgerState(self.accounts, balances, self.transfers, self.pendings)


def _validate(t: Transfer, flags: int, accounts: Mapping[str, Account]) -> Result | None:
    """The checks that need no balance: shape, accounts, units (in this order)."""
    phases = flags & _PHASES
    resolves = phases & _RESOLVES
    if phases & (phases - 1):
        return Result.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if t.debit_account_id == t.credit_account_id:
        return Result.ACCOUNTS_MUST_BE_DIFFERENT
    if t.amount <= 0:
        return Result.AMOUNT_MUST_BE_POSITIVE
    if resolves and not t.pending_id:
        return Result.PENDING_ID_REQUIRED
    if not resolves and t.pending_id:
        return Result.PENDING_ID_MUST_BE_EMPTY
    if t.timeout_s != 0 and phases != _PENDING:
        return Result.TIMEOUT_RESERVED_FOR_PENDING
    debit, credit = accounts.get(t.debit_account_id), accounts.get(t.credit_account_id)
    if debit is None or credit is None:
        return Result.ACCOUNT_NOT_FOUND
    if debit.unit != credit.unit:
        return Result.CURRENCY_MISMATCH
    return None


def _limits(t: Transfer, w: _Work, d: _Sums, c: _Sums) -> Result | None:
    """Pessimistic balance limits for a new plain or pending transfer."""
    debit, credit = w.accounts[t.debit_account_id], w.accounts[t.credit_account_id]
    if debit.debits_must_not_exceed_credits and (
            d[0] + d[1] + t.amount > d[3] + debit.credit_limit):
        return Result.EXCEEDS_CREDITS
    if credit.credits_must_not_exceed_debits and (
            c[2] + c[3] + t.amount > c[1] + credit.credit_limit):
        return Result.EXCEEDS_DEBITS
    return None


def _resolve_check(t: Transfer, flags: int, w: _Work, now_ns: int) -> Result | None:
    """Checks for POST_PENDING / VOID_PENDING against the pending transfer."""
    pending = w.transfers.get(t.pending_id)
    if pending is None:
        return Result.PENDING_NOT_FOUND
    if not pending.flags._value_ & _PENDING:
        return Result.PENDING_NOT_PENDING
    if (pending.debit_account_id, pending.credit_account_id) != (
            t.debit_account_id, t.credit_account_id):
        return Result.PENDING_DIFFERENT_ACCOUNTS
    status = w.pendings[pending.id]
    expires_at_ns = pending.expires_at_ns
    if status is PendingStatus.PENDING and expires_at_ns is not None and now_ns >= expires_at_ns:
        status = PendingStatus.EXPIRED  # a store expires touched pendings first; see expire_due
    if status in _DONE:
        return _DONE[status]
    if flags & _POST and t.amount > pending.amount:
        return Result.EXCEEDS_PENDING_AMOUNT
    if flags & _VOID and t.amount != pending.amount:
        return Result.VOID_AMOUNT_MISMATCH
    return None


def _moved(kind: EntryKind, t: Transfer, flags: int, w: _Work,
           d: _Sums, c: _Sums) -> tuple[_Sums, _Sums, Mapping[str, PendingStatus]] | None:
    """New sums of both accounts and new pending statuses of ``t`` (already validated), or
    None when a balance would pass AMOUNT_MAX."""
    pendings = _NO_PENDINGS
    if kind == "expiry" or flags & _RESOLVES:
        held = w.transfers[t.pending_id].amount
        posted = t.amount if flags & _POST else 0
        d = (d[0] - held, d[1] + posted, d[2], d[3])
        c = (c[0], c[1], c[2] - held, c[3] + posted)
        pendings = {t.pending_id: PendingStatus.POSTED if posted else PendingStatus.EXPIRED
                    if kind == "expiry" else PendingStatus.VOIDED}
    elif flags & _PENDING:
        d, c = (d[0] + t.amount, d[1], d[2], d[3]), (c[0], c[1], c[2] + t.amount, c[3])
        pendings = {t.id: PendingStatus.PENDING}
    else:
        d, c = (d[0], d[1] + t.amount, d[2], d[3]), (c[0], c[1], c[2], c[3] + t.amount)
    if max(d) > AMOUNT_MAX or max(c) > AMOUNT_MAX:
        return None
    assert d[0] >= 0 and c[2] >= 0, (t, d, c)
    return d, c, pendings


def _apply_one(t: Transfer, w: _Work, now_ns: int) -> Result:
    existing = w.transfers.get(t.id)
    if existing is not None:
        return Result.OK if existing.same_body(t) else Result.EXISTS_WITH_DIFFERENT_FIELDS
    flags = t.flags._value_
    failure = _validate(t, flags, w.accounts)
    if failure is not None:
        return failure
    d, c = w.sums_of(t.debit_account_id), w.sums_of(t.credit_account_id)
    failure = _resolve_check(t, flags, w, now_ns) if flags & _RESOLVES else _limits(t, w, d, c)
    if failure is not None:
        return failure
    moved = _moved("transfer", t, flags, w, d, c)
    if moved is None:
        return Result.OVERFLOWS_BALANCE
    w.commit(Effect("transfer", t.stamped(now_ns), moved[2]), moved[0], moved[1])
    return Result.OK


def _fail_chain(results: list[Result], start: int) -> None:
    results[start:] = [r if r is not Result.OK else Result.LINKED_EVENT_FAILED
                       for r in results[start:]]


def apply_batch(state: LedgerState, transfers: Sequence[Transfer], now_ns: int) -> BatchOutcome:
    """Apply ``transfers`` in order; a chain of LINKED transfers (ended by one without the
    flag) is applied entirely or not at all."""
    w = _Work(state)
    results: list[Result] = []
    chain_start: int | None = None  # index of the open chain's first transfer
    chain_failed = False
    snap = w.snapshot()
    last = len(transfers) - 1
    for index, t in enumerate(transfers):
        linked = t.flags._value_ & _LINKED
        if chain_start is None and linked:
            chain_start, chain_failed, snap = index, False, w.snapshot()
        if chain_failed:
            result = Result.LINKED_EVENT_FAILED
        elif linked and index == last:
            result = Result.LINKED_EVENT_CHAIN_OPEN
        else:
            result = _apply_one(t, w, now_ns)
        results.append(result)
        if chain_start is not None:
            chain_failed = chain_failed or result is not Result.OK
            if not linked or index == last:
                if chain_failed:
                    w.restore(snap)
                    _fail_chain(results, chain_start)
                chain_start, chain_failed = None, False
    return BatchOutcome(w.state(), tuple(results), tuple(w.effects))


def apply(state: LedgerState, transfer: Transfer, now_ns: int) -> LedgerState | Result:
    """One transfer: the new state, or the result code that refused it."""
    outcome = apply_batch(state, [transfer], now_ns)
    return outcome.state if outcome.results[0] is Result.OK else outcome.results[0]


def expire_due(state: LedgerState, now_ns: int,
               only: Iterable[str] | None = None) -> tuple[LedgerState, tuple[Effect, ...]]:
    """Release every PENDING transfer whose timeout has passed (or just those in ``only``).

    Each release is an ``expiry`` journal entry stamped ``now_ns``; an id named twice in
    ``only`` is released once.
    """
    w = _Work(state)
    ids = state.pendings if only is None else {i for i in only if i in state.pendings}
    due = []
    for pending_id in ids:
        pending = w.transfers[pending_id]
        expires_at_ns = pending.expires_at_ns
        if (w.pendings[pending_id] is PendingStatus.PENDING and expires_at_ns is not None
                and now_ns >= expires_at_ns):
            due.append((expires_at_ns, pending_id))
    if not due:
        return state, ()
    for _, pending_id in sorted(due):
        p = w.transfers[pending_id]
        release = Transfer(p.id, p.debit_account_id, p.credit_account_id, p.amount, "expiry",
                           pending_id=p.id, timestamp_ns=now_ns)
        d, c = w.sums_of(p.debit_account_id), w.sums_of(p.credit_account_id)
        moved = _moved("expiry", release, 0, w, d, c)
        assert moved is not None, release  # releasing only lowers balances
        w.commit(Effect("expiry", release, moved[2]), moved[0], moved[1])
    return w.state(), tuple(w.effects)
