"""Budgets as ledger accounts, and the pure planning of reservations (no I/O).

Levels nest key ⊂ agent ⊂ team ⊂ tenant; a call attributed to a :class:`Scope` must fit in
every level of it that has a budget, for every period kind (day, month) that level has.
Each budget period is two accounts, funded for the period by a transfer from
``funding:budgets:<CUR>``::

    budget:tenant:acme:2026-11        what may still be spent (must not go negative)
    budget:tenant:acme:2026-11:used   what was spent (posted reservations)

A reservation is one PENDING transfer ``budget:…`` → ``budget:…:used`` per level, submitted
as ONE linked chain: it fits every level at once or none. Settling posts the actual amount at
every level (the rest is released); releasing voids. The budget's definition (amount per
period, time zone) is the latest revision transfer into ``budget-limit:<level>:<kind>``, so
it lives in the ledger too, append-only; see :mod:`ciyuan.billing.service`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ciyuan.billing.errors import BudgetInvalidError, ReservationInvalidError
from ciyuan.billing.periods import Period, PeriodKind
from ciyuan.ledger import Account, AccountKind, Balance, Transfer, TransferFlags

__all__ = [
    "Budget",
    "BudgetPeriod",
    "BudgetStatus",
    "Hold",
    "Level",
    "LevelKind",
    "Reservation",
    "Scope",
    "budget_status",
    "check_name",
    "linked",
    "plan_release",
    "plan_reserve",
    "plan_settle",
]

F = TransferFlags
_NAME = re.compile(r"[A-Za-z0-9._@+\-]{1,64}")
#: Reservation ids leave room for the level suffix within the ledger's 200-character ids.
RESERVATION_ID_MAX_CHARS = 160


class LevelKind(StrEnum):
    TENANT = "tenant"
    TEAM = "team"
    AGENT = "agent"
    KEY = "key"


def check_name(value: str, what: str) -> str:
    """A level name (tenant, team, agent, key id): 1-64 of ``A-Za-z0-9._@+-``."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise BudgetInvalidError(
            f"{what} must be 1-64 letters, digits or ._@+- (no spaces or colons), not "
            f"{value!r}", field=what)
    return value


@dataclass(frozen=True)
class Level:
    """One budget level: the tenant itself, or a team, agent or key named within it."""

    kind: LevelKind
    tenant: str
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LevelKind(self.kind))
        check_name(self.tenant, "tenant")
        if self.kind is not LevelKind.TENANT:
            check_name(self.name, str(self.kind))
        elif self.name not in ("", self.tenant):
            raise BudgetInvalidError("a tenant level has no name of its own", field="name")

    @property
    def path(self) -> str:
        """``tenant:acme`` or ``team:acme:research``: unique among all levels."""
        if self.kind is LevelKind.TENANT:
            return f"tenant:{self.tenant}"
        return f"{self.kind}:{self.tenant}:{self.name}"


class Attributed(Protocol):
    """Anything that says who a call belongs to (e.g. the gateway's principal)."""

    @property
    def tenant(self) -> str: ...
    @property
    def team(self) -> str: ...
    @property
    def agent(self) -> str: ...
    @property
    def key_id(self) -> str: ...


@dataclass(frozen=True)
class Scope:
    """Who a call is attributed to; empty names are levels the call does not have."""

    tenant: str
    team: str = ""
    agent: str = ""
    key: str = ""

    @classmethod
    def of(cls, who: Attributed) -> Scope:
        return cls(who.tenant, who.team, who.agent, who.key_id)

    def levels(self) -> tuple[Level, ...]:
        """The levels of this call, outermost first: tenant, then team, agent, key."""
        named = ((LevelKind.TEAM, self.team), (LevelKind.AGENT, self.agent),
                 (LevelKind.KEY, self.key))
        return (Level(LevelKind.TENANT, self.tenant),
                *(Level(kind, self.tenant, name) for kind, name in named if name))

    def level(self) -> Level:
        """The innermost level (a budget set for this scope applies here)."""
        return self.levels()[-1]


@dataclass(frozen=True)
class Budget:
    """The definition: ``amount_nano`` of ``currency`` per calendar ``period`` in ``tz``."""

    level: Level
    period: PeriodKind
    amount_nano: int
    currency: str
    tz: str
    revision: int = 1

    @property
    def limit_account_id(self) -> str:
        return f"budget-limit:{self.level.path}:{self.period}"


@dataclass(frozen=True)
class BudgetPeriod:
    """A budget in one of its periods: the two ledger accounts of that period."""

    budget: Budget
    period: Period

    @property
    def account_id(self) -> str:
        return f"budget:{self.budget.level.path}:{self.period.key}"

    @property
    def used_account_id(self) -> str:
        return f"{self.account_id}:used"

    @property
    def label(self) -> str:
        """``tenant-month``, ``key-day``: names this level's hold in a reservation."""
        return f"{self.budget.level.kind}-{self.period.kind}"

    def accounts(self) -> tuple[Account, Account]:
        b = self.budget
        return (Account(self.account_id, AccountKind.BUDGET, b.currency, b.level.tenant,
                        debits_must_not_exceed_credits=True),
                Account(self.used_account_id, AccountKind.BUDGET, b.currency, b.level.tenant))


@dataclass(frozen=True)
class Hold:
    """One leg of a reservation: a pending transfer ``debit`` → ``credit``."""

    transfer_id: str
    debit_account_id: str
    credit_account_id: str
    label: str


@dataclass(frozen=True)
class Reservation:
    """Money held for one call at every level (and the wallet), all or none."""

    id: str
    amount_nano: int
    currency: str
    holds: tuple[Hold, ...] = ()
    timeout_s: int = 0


def linked(transfers: Sequence[Transfer]) -> list[Transfer]:
    """The transfers as one linked chain: all are applied or none."""
    out = []
    for index, t in enumerate(transfers):
        flags = t.flags | F.LINKED if index < len(transfers) - 1 else t.flags & ~F.LINKED
        out.append(Transfer(t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code,
                            flags, t.pending_id, t.timeout_s, t.metadata))
    return out


def budget_hold(reservation_id: str, period: BudgetPeriod) -> Hold:
    return Hold(f"{reservation_id}:{period.label}", period.account_id, period.used_account_id,
                period.label)


def plan_reserve(reservation_id: str, amount_nano: int, holds: Sequence[Hold],
                 timeout_s: int) -> list[Transfer]:
    """One PENDING transfer per hold, as one linked chain (the reservation fits everywhere
    or nowhere)."""
    if not isinstance(reservation_id, str) or not 0 < len(reservation_id) <= (
            RESERVATION_ID_MAX_CHARS):
        raise ReservationInvalidError(
            f"reservation id must be 1-{RESERVATION_ID_MAX_CHARS} characters, not "
            f"{reservation_id!r}", field="reservation_id")
    if type(amount_nano) is not int or amount_nano <= 0:
        raise ReservationInvalidError(
            f"a reservation holds a positive int of nano-units, not {amount_nano!r}",
            field="amount_nano")
    return linked([Transfer(h.transfer_id, h.debit_account_id, h.credit_account_id,
                            amount_nano, "reserve", F.PENDING, timeout_s=timeout_s,
                            metadata=(("reservation", reservation_id), ("level", h.label)))
                   for h in holds])


def plan_settle(reservation: Reservation, actual_nano: int) -> list[Transfer]:
    """Post ``actual_nano`` (0 ≤ actual ≤ reserved) at every hold, one linked chain; the
    rest is released. Settling 0 is a release."""
    if type(actual_nano) is not int or not 0 <= actual_nano <= reservation.amount_nano:
        raise ReservationInvalidError(
            f"settle {reservation.id!r}: the actual amount must be an int in 0 .. "
            f"{reservation.amount_nano} (the reserved amount), not {actual_nano!r}; charge "
            "anything above the reservation separately", field="actual_nano")
    if actual_nano == 0:
        return plan_release(reservation)
    return linked([Transfer(f"{h.transfer_id}:post", h.debit_account_id, h.credit_account_id,
                            actual_nano, "settle", F.POST_PENDING, pending_id=h.transfer_id)
                   for h in reservation.holds])


def plan_release(reservation: Reservation) -> list[Transfer]:
    """Void every hold of the reservation, one linked chain."""
    return linked([Transfer(f"{h.transfer_id}:void", h.debit_account_id, h.credit_account_id,
                            reservation.amount_nano, "release", F.VOID_PENDING,
                            pending_id=h.transfer_id)
                   for h in reservation.holds])


@dataclass(frozen=True)
class BudgetStatus:
    """How full one budget is in one period (amounts in nano-units of ``currency``)."""

    level: Level
    period: Period
    currency: str
    limit_nano: int
    spent_nano: int
    reserved_nano: int
    available_nano: int
    opened: bool

    @property
    def used_percent(self) -> str:
        """(spent + reserved) ÷ limit as a percentage with one decimal, for display."""
        if self.limit_nano <= 0:
            return "100.0" if self.spent_nano + self.reserved_nano else "0.0"
        tenths = (self.spent_nano + self.reserved_nano) * 1000 // self.limit_nano
        return f"{tenths // 10}.{tenths % 10}"


def effective_limit(account: Balance, used: Balance) -> int:
    """What the period was funded with, net of claw-backs: credits in, minus debits that
    did not go to the ``used`` account."""
    return account.credits_posted - (account.debits_posted - used.credits_posted)


def budget_status(period: BudgetPeriod, account: Balance | None,
                  used: Balance | None) -> BudgetStatus:
    """The status of a budget period from its two balances (None: not opened yet)."""
    b = period.budget
    if account is None or used is None or account.credits_posted == 0:
        return BudgetStatus(b.level, period.period, b.currency, b.amount_nano, 0, 0,
                            b.amount_nano, False)
    return BudgetStatus(
        b.level, period.period, b.currency, effective_limit(account, used),
        used.credits_posted, account.debits_pending,
        account.credits_posted - account.debits_posted - account.debits_pending, True)
