"""Budget definitions kept in the ledger, and the funding of budget periods (pure planning).

A budget's definition is a chain of revisions into its limit account
``budget-limit:<level>:<kind>``: revision *n* is the transfer ``…:r<n>`` from
``funding:budgets:<CUR>`` of the new amount per period (its metadata holds the time zone),
linked with ``…:r<n>:release`` that returns the previous amount, so the limit account's
balance is always the current amount. Revision ids are consecutive, so the latest one is
found by asking for ``r1, r2, …`` in batches; two admins setting one budget at once both
write ``r<n+1>`` and the second is refused (``exists-with-different-fields``) and retries.

A period is opened by ``budget:…:<key>:fund`` (the current amount, with the revision in its
metadata; every gateway worker plans the same body, so opening is idempotent). A revision
while a period is open adjusts that period by ``budget:…:<key>:r<n>:from<limit>``: the
difference to the period's effective limit, or as much of a decrease as is not yet spent or
held.
"""

from __future__ import annotations

from dataclasses import dataclass

from ciyuan.billing.budgets import Budget, BudgetPeriod, Level, effective_limit
from ciyuan.billing.errors import BudgetInvalidError
from ciyuan.billing.periods import PeriodKind, zone
from ciyuan.ledger import Account, AccountKind, Balance, Transfer

__all__ = [
    "PLATFORM",
    "budget_from_revision",
    "fund_id",
    "funding_account",
    "limit_account",
    "limit_id",
    "plan_adjust",
    "plan_open",
    "plan_revision",
    "revision_id",
]

PLATFORM = "platform"


def funding_account(currency: str) -> Account:
    """Where budget amounts come from (a quota, not money: nothing flows to wallets)."""
    return Account(f"funding:budgets:{currency}", AccountKind.FUNDING, currency, PLATFORM)


def limit_id(level: Level, period: PeriodKind) -> str:
    """The account whose revisions define ``level``'s budget per ``period``."""
    return f"budget-limit:{level.path}:{period}"


def limit_account(level: Level, period: PeriodKind, currency: str) -> Account:
    return Account(limit_id(level, period), AccountKind.BUDGET, currency, level.tenant)


def revision_id(limit_account_id: str, revision: int) -> str:
    return f"{limit_account_id}:r{revision}"


@dataclass(frozen=True)
class RevisionPlan:
    budget: Budget
    transfers: tuple[Transfer, ...]


def plan_revision(level: Level, period: PeriodKind, amount_nano: int, currency: str, tz: str,
                  previous: Budget | None) -> RevisionPlan:
    """The transfers of the next revision of a budget (previous: the latest, if any)."""
    if type(amount_nano) is not int or amount_nano <= 0:
        raise BudgetInvalidError(
            f"a budget amount must be positive, not {amount_nano!r} nano-units; to stop a "
            "level from spending, revoke its key", field="amount")
    zone(tz)
    revision = 1 if previous is None else previous.revision + 1
    budget = Budget(level, period, amount_nano, currency, tz, revision)
    limit = budget.limit_account_id
    funding = funding_account(currency).id
    transfers = []
    if previous is not None:
        transfers.append(Transfer(f"{revision_id(limit, revision)}:release", limit, funding,
                                  previous.amount_nano, "budget-limit"))
    transfers.append(Transfer(revision_id(limit, revision), funding, limit, amount_nano,
                              "budget-limit", metadata=(("tz", tz),
                                                        ("revision", str(revision)))))
    return RevisionPlan(budget, tuple(transfers))


def budget_from_revision(level: Level, period: PeriodKind, account: Account,
                         grant: Transfer, revision: int) -> Budget:
    """The definition a revision transfer records."""
    tz = dict(grant.metadata).get("tz", "UTC")
    return Budget(level, period, grant.amount, account.unit, tz, revision)


def fund_id(period: BudgetPeriod) -> str:
    """The id of the transfer that funds a period (:func:`plan_open`)."""
    return f"{period.account_id}:fund"


def plan_open(period: BudgetPeriod) -> Transfer:
    """Fund a period with its budget's current amount (idempotent: one id per period)."""
    b = period.budget
    return Transfer(fund_id(period), funding_account(b.currency).id,
                    period.account_id, b.amount_nano, "budget-fund",
                    metadata=(("revision", str(b.revision)), ("tz", b.tz),
                              ("period", period.period.key)))


def plan_adjust(period: BudgetPeriod, account: Balance, used: Balance) -> Transfer | None:
    """Bring an open period to its budget's (new) amount; None if nothing changes.

    A decrease takes back only what is neither spent nor held: a level that spent more than
    its new amount simply cannot spend further this period.
    """
    b = period.budget
    funding = funding_account(b.currency).id
    before = effective_limit(account, used)
    delta = b.amount_nano - before
    # the id names the state it was planned from: workers planning from the same state
    # write the same transfer once; a plan from a stale state gets a different id, and
    # within one revision the limit only moves towards the amount, so no state recurs
    tid = f"{period.account_id}:r{b.revision}:from{before}"
    if delta > 0:
        return Transfer(tid, funding, period.account_id, delta, "budget-adjust")
    free = account.credits_posted - account.debits_posted - account.debits_pending
    take = min(-delta, free)
    if take <= 0:
        return None
    return Transfer(tid, period.account_id, funding, take, "budget-adjust")
