"""The pure ledger engine: (state, transfers, now) → new state, one result per transfer.

No I/O. A store loads the part of the state a batch touches, runs :func:`apply_batch` under
its write lock and writes back the :class:`Effect` list; the in-memory :func:`apply` is the
same function for one transfer. Rules follow TigerBeetle: limits are checked pessimistically
(pending debits count against the balance), a pending resolves at most once, linked chains
are all-or-nothing, and a retry with the same id and fields is a no-op that returns ``ok``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ciyuan.ledger.model import Account, Balance, PendingStatus, Transfer, TransferFlags
from ciyuan.ledger.results import Result
from ciyuan.ledger.units import AMOUNT_MAX

__all__ = ["BatchOutcome", "Effect", "LedgerState", "apply", "apply_batch", "expire_due"]

EntryKind = Literal["transfer", "expiry"]
_PHASES = TransferFlags.PENDING | TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING


@dataclass(frozen=True)
class LedgerState:
    """Accounts, their balances, stored transfers by id and the status of each pending."""

    accounts: Mapping[str, Account] = field(default_factory=dict)
    balances: Mapping[str, Balance] = field(default_factory=dict)
    transfers: Mapping[str, Transfer] = field(default_factory=dict)
    pendings: Mapping[str, PendingStatus] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """What one accepted transfer (or one expiry) changes: a journal entry, new balances of
    the accounts it touches, and new pending statuses."""

    kind: EntryKind
    transfer: Transfer
    balances: Mapping[str, Balance]
    pendings: Mapping[str, PendingStatus]


@dataclass(frozen=True)
class BatchOutcome:
    state: LedgerState
    results: tuple[Result, ...]
    effects: tuple[Effect, ...]


class _Work:
    """Mutable working copy of a state while a batch runs."""

    def __init__(self, state: LedgerState) -> None:
        self.accounts = state.accounts
        self.balances = dict(state.balances)
        self.transfers = dict(state.transfers)
        self.pendings = dict(state.pendings)
        self.effects: list[Effect] = []

    def snapshot(self) -> tuple[dict[str, Balance], dict[str, Transfer],
                                dict[str, PendingStatus], int]:
        return dict(self.balances), dict(self.transfers), dict(self.pendings), len(self.effects)

    def restore(self, snap: tuple[dict[str, Balance], dict[str, Transfer],
                                  dict[str, PendingStatus], int]) -> None:
        self.balances, self.transfers, self.pendings, count = snap
        del self.effects[count:]

    def commit(self, effect: Effect) -> None:
        self.balances.update(effect.balances)
        self.pendings.update(effect.pendings)
        if effect.kind == "transfer":
            self.transfers[effect.transfer.id] = effect.transfer
        self.effects.append(effect)

    def state(self) -> LedgerState:
        return LedgerState(self.accounts, self.balances, self.transfers, self.pendings)


def _validate(t: Transfer, w: _Work) -> Result | None:
    """The checks that need no balance: shape, accounts, units."""
    phases = t.flags & _PHASES
    resolves = bool(phases & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING))
    checks: tuple[tuple[bool, Result], ...] = (
        (phases.bit_count() > 1, Result.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
        (t.debit_account_id == t.credit_account_id, Result.ACCOUNTS_MUST_BE_DIFFERENT),
        (t.amount <= 0, Result.AMOUNT_MUST_BE_POSITIVE),
        (resolves and not t.pending_id, Result.PENDING_ID_REQUIRED),
        (not resolves and bool(t.pending_id), Result.PENDING_ID_MUST_BE_EMPTY),
        (t.timeout_s != 0 and phases != TransferFlags.PENDING,
         Result.TIMEOUT_RESERVED_FOR_PENDING),
        (t.debit_account_id not in w.accounts or t.credit_account_id not in w.accounts,
         Result.ACCOUNT_NOT_FOUND),
    )
    for failed, result in checks:
        if failed:
            return result
    if w.accounts[t.debit_account_id].unit != w.accounts[t.credit_account_id].unit:
        return Result.CURRENCY_MISMATCH
    return None


def _limits(t: Transfer, w: _Work) -> Result | None:
    """Pessimistic balance limits for a new plain or pending transfer."""
    debit, credit = w.accounts[t.debit_account_id], w.accounts[t.credit_account_id]
    db, cb = w.balances.get(debit.id, Balance()), w.balances.get(credit.id, Balance())
    if debit.debits_must_not_exceed_credits and (
            db.debits_pending + db.debits_posted + t.amount
            > db.credits_posted + debit.credit_limit):
        return Result.EXCEEDS_CREDITS
    if credit.credits_must_not_exceed_debits and (
            cb.credits_pending + cb.credits_posted + t.amount
            > cb.debits_posted + credit.credit_limit):
        return Result.EXCEEDS_DEBITS
    return None


def _resolve_check(t: Transfer, w: _Work, now_ns: int) -> Result | None:
    """Checks for POST_PENDING / VOID_PENDING against the pending transfer."""
    pending = w.transfers.get(t.pending_id)
    if pending is None:
        return Result.PENDING_NOT_FOUND
    if TransferFlags.PENDING not in pending.flags:
        return Result.PENDING_NOT_PENDING
    if (pending.debit_account_id, pending.credit_account_id) != (
            t.debit_account_id, t.credit_account_id):
        return Result.PENDING_DIFFERENT_ACCOUNTS
    status = w.pendings[pending.id]
    expires_at_ns = pending.expires_at_ns
    if status is PendingStatus.PENDING and expires_at_ns is not None and now_ns >= expires_at_ns:
        status = PendingStatus.EXPIRED  # a store expires touched pendings first; see expire_due
    done = {PendingStatus.POSTED: Result.PENDING_ALREADY_POSTED,
            PendingStatus.VOIDED: Result.PENDING_ALREADY_VOIDED,
            PendingStatus.EXPIRED: Result.PENDING_EXPIRED}
    if status in done:
        return done[status]
    if TransferFlags.POST_PENDING in t.flags and t.amount > pending.amount:
        return Result.EXCEEDS_PENDING_AMOUNT
    if TransferFlags.VOID_PENDING in t.flags and t.amount != pending.amount:
        return Result.VOID_AMOUNT_MISMATCH
    return None


def _effect(kind: EntryKind, t: Transfer, w: _Work) -> Effect | Result:
    """New balances and pending statuses of ``t`` (already validated), or OVERFLOWS_BALANCE."""
    d = w.balances.get(t.debit_account_id, Balance())
    c = w.balances.get(t.credit_account_id, Balance())
    pendings: dict[str, PendingStatus] = {}
    if kind == "expiry" or t.flags & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING):
        held = w.transfers[t.pending_id].amount
        posted = t.amount if TransferFlags.POST_PENDING in t.flags else 0
        d = d.add(debits_pending=-held, debits_posted=posted)
        c = c.add(credits_pending=-held, credits_posted=posted)
        pendings[t.pending_id] = (PendingStatus.POSTED if posted else PendingStatus.EXPIRED
                                  if kind == "expiry" else PendingStatus.VOIDED)
    elif TransferFlags.PENDING in t.flags:
        d, c = d.add(debits_pending=t.amount), c.add(credits_pending=t.amount)
        pendings[t.id] = PendingStatus.PENDING
    else:
        d, c = d.add(debits_posted=t.amount), c.add(credits_posted=t.amount)
    for b in (d, c):
        if max(b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted) > AMOUNT_MAX:
            return Result.OVERFLOWS_BALANCE
        assert min(b.debits_pending, b.credits_pending) >= 0, (t, b)
    return Effect(kind, t, {t.debit_account_id: d, t.credit_account_id: c}, pendings)


def _apply_one(t: Transfer, w: _Work, now_ns: int) -> Result:
    existing = w.transfers.get(t.id)
    if existing is not None:
        return Result.OK if existing.same_body(t) else Result.EXISTS_WITH_DIFFERENT_FIELDS
    failure = _validate(t, w)
    if failure is None and t.flags & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING):
        failure = _resolve_check(t, w, now_ns)
    elif failure is None:
        failure = _limits(t, w)
    if failure is not None:
        return failure
    effect = _effect("transfer", t.stamped(now_ns), w)
    if isinstance(effect, Result):
        return effect
    w.commit(effect)
    return Result.OK


def apply_batch(state: LedgerState, transfers: Sequence[Transfer], now_ns: int) -> BatchOutcome:
    """Apply ``transfers`` in order; a chain of LINKED transfers (ended by one without the
    flag) is applied entirely or not at all."""
    w = _Work(state)
    results: list[Result] = []
    chain_start: int | None = None
    snap = w.snapshot()
    for index, t in enumerate(transfers):
        linked = TransferFlags.LINKED in t.flags
        if chain_start is None and linked:
            chain_start, snap = index, w.snapshot()
        in_failed_chain = chain_start is not None and any(
            r is not Result.OK for r in results[chain_start:])
        if in_failed_chain:
            result = Result.LINKED_EVENT_FAILED
        elif linked and index == len(transfers) - 1:
            result = Result.LINKED_EVENT_CHAIN_OPEN
        else:
            result = _apply_one(t, w, now_ns)
        results.append(result)
        if chain_start is not None and (not linked or index == len(transfers) - 1):
            if any(r is not Result.OK for r in results[chain_start:]):
                w.restore(snap)
                results[chain_start:] = [r if r is not Result.OK else Result.LINKED_EVENT_FAILED
                                         for r in results[chain_start:]]
            chain_start = None
    return BatchOutcome(w.state(), tuple(results), tuple(w.effects))


def apply(state: LedgerState, transfer: Transfer, now_ns: int) -> LedgerState | Result:
    """One transfer: the new state, or the result code that refused it."""
    outcome = apply_batch(state, [transfer], now_ns)
    return outcome.state if outcome.results[0] is Result.OK else outcome.results[0]


def expire_due(state: LedgerState, now_ns: int,
               only: Iterable[str] | None = None) -> tuple[LedgerState, tuple[Effect, ...]]:
    """Release every PENDING transfer whose timeout has passed (or just those in ``only``).

    Each release is an ``expiry`` journal entry stamped ``now_ns``.
    """
    w = _Work(state)
    ids = state.pendings if only is None else [i for i in only if i in state.pendings]
    due = []
    for pending_id in ids:
        pending = w.transfers[pending_id]
        expires_at_ns = pending.expires_at_ns
        if (w.pendings[pending_id] is PendingStatus.PENDING and expires_at_ns is not None
                and now_ns >= expires_at_ns):
            due.append((expires_at_ns, pending_id))
    for _, pending_id in sorted(due):
        p = w.transfers[pending_id]
        release = Transfer(p.id, p.debit_account_id, p.credit_account_id, p.amount, "expiry",
                           pending_id=p.id, timestamp_ns=now_ns)
        effect = _effect("expiry", release, w)
        assert isinstance(effect, Effect), effect  # releasing only lowers balances
        w.commit(effect)
    return w.state(), tuple(w.effects)
