"""``verify`` for every ledger store: the hash chain, then a replay of the journal.

The journal is the record; balances and pending statuses are derived state kept beside it
for speed. :func:`verify_ledger` recomputes the chain (``ciyuan.ledger.verify_chain``),
then replays the entries into balances and pending statuses and compares them with what the
store holds. A chain mismatch names the first bad entry; a replay mismatch names the first
account (or pending) in id order whose stored state differs, and points at the last journal
entry that touched it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ciyuan.core.errors import CiyuanError
from ciyuan.ledger import Balance, JournalEntry, TransferFlags, VerifyReport, verify_chain
from ciyuan.ledger.engine import EntryKind
from ciyuan.store.ledger_rows import transfer_from_row

__all__ = ["Replay", "verify_ledger"]


class Replay:
    """Balances and pending statuses rebuilt from journal entries, one entry at a time."""

    def __init__(self) -> None:
        self.balances: dict[str, Balance] = {}
        self.statuses: dict[str, str] = {}
        self.last_touch: dict[str, tuple[int, str]] = {}  # id → (seq, transfer id)
        self._held: dict[str, int] = {}  # pending id → amount it holds
        self.problem: tuple[int, str, str] | None = None  # (seq, id, reason)

    def _move(self, e: JournalEntry, pending: int, posted: int) -> None:
        t = e.transfer
        d = self.balances.get(t.debit_account_id, Balance())
        c = self.balances.get(t.credit_account_id, Balance())
        self.balances[t.debit_account_id] = d.add(debits_pending=pending, debits_posted=posted)
        self.balances[t.credit_account_id] = c.add(credits_pending=pending,
                                                   credits_posted=posted)
        for key in (t.debit_account_id, t.credit_account_id, t.pending_id or t.id):
            self.last_touch[key] = (e.seq, t.id)

    def add(self, e: JournalEntry) -> None:
        """Apply one entry; an entry that resolves an unknown pending sets ``problem``."""
        t = e.transfer
        resolves = e.kind == "expiry" or bool(
            t.flags & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING))
        if resolves:
            held = self._held.pop(t.pending_id, None)
            if held is None:
                if self.problem is None:
                    self.problem = (e.seq, t.id, f"it resolves {t.pending_id!r}, which is not "
                                    "an open pending transfer")
                return
            posted = t.amount if TransferFlags.POST_PENDING in t.flags else 0
            self.statuses[t.pending_id] = ("expired" if e.kind == "expiry" else
                                           "posted" if posted else "voided")
            self._move(e, -held, posted)
        elif TransferFlags.PENDING in t.flags:
            self._held[t.id] = t.amount
            self.statuses[t.id] = "pending"
            self._move(e, t.amount, 0)
        else:
            self._move(e, 0, t.amount)


def _entries(rows: Iterable[Sequence[Any]], unreadable: list[tuple[int, str, str]],
             replay: Replay) -> Iterator[JournalEntry]:
    """Rows as entries, fed to ``replay``; stops at the first row that cannot be read back."""
    for row in rows:
        try:
            kind: EntryKind = "expiry" if row[1] == "expiry" else "transfer"
            entry = JournalEntry(row[0], kind, transfer_from_row(row), row[12], row[13])
        except (CiyuanError, ValueError, TypeError) as error:
            unreadable.append((row[0], str(row[2]), str(error)))
            return
        replay.add(entry)
        yield entry


def _first_difference(replay: Replay, balances: Mapping[str, Balance],
                      pendings: Mapping[str, str]) -> tuple[str, str] | None:
    """(id, reason) of the first account, then pending, whose stored state differs."""
    for account_id in sorted(set(balances) | set(replay.balances)):
        stored, replayed = balances.get(account_id), replay.balances.get(account_id, Balance())
        if stored is None:
            return account_id, (f"journal entries name account {account_id!r}, which the "
                                "store does not hold")
        if stored != replayed:
            return account_id, (f"account {account_id!r} stores {stored}, but a replay of the "
                                f"journal gives {replayed}")
    for pending_id in sorted(set(pendings) | set(replay.statuses)):
        stored_status, replayed_status = pendings.get(pending_id), replay.statuses.get(pending_id)
        if stored_status != replayed_status:
            return pending_id, (f"pending {pending_id!r} is stored as {stored_status}, but a "
                                f"replay of the journal gives {replayed_status}")
    return None


def verify_ledger(rows: Iterable[Sequence[Any]], balances: Mapping[str, Balance],
                  pendings: Mapping[str, str], head: tuple[int, str] | None = None) -> VerifyReport:
    """Verify journal ``rows`` (``JOURNAL_COLS`` order, by seq) against stored ``balances``
    (every account) and pending ``statuses``; ``head`` is a store's recorded chain head."""
    unreadable: list[tuple[int, str, str]] = []
    replay = Replay()
    report = verify_chain(_entries(rows, unreadable, replay))
    if not report.ok:
        return report
    if unreadable:
        seq, entry_id, why = unreadable[0]
        return VerifyReport(False, report.entries, report.head_hash, seq, entry_id,
                            f"it cannot be read back: {why}")
    if head is not None and head != (report.entries, report.head_hash):
        seq = report.entries if head[0] == report.entries else min(head[0], report.entries) + 1
        return VerifyReport(False, report.entries, report.head_hash, seq, None,
                            f"the chain head records entry {head[0]}, but the journal ends at "
                            f"entry {report.entries} with another hash: entries were removed, "
                            "added or replaced at the end")
    if replay.problem is not None:
        seq, entry_id, reason = replay.problem
        return VerifyReport(False, report.entries, report.head_hash, seq, entry_id, reason)
    difference = _first_difference(replay, balances, pendings)
    if difference is None:
        return report
    name, reason = difference
    seq_and_id = replay.last_touch.get(name)
    return VerifyReport(False, report.entries, report.head_hash,
                        seq_and_id[0] if seq_and_id else None,
                        seq_and_id[1] if seq_and_id else None, reason)
