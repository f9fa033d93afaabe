"""ciyuan.billing: budgets, reservations, prepaid wallets, credit lines and token packs.

Owns the meaning of money and tokens a tenant may spend, as ledger accounts and transfers:
budget levels (tenant ⊃ team ⊃ agent ⊃ key) with calendar periods in an explicit time zone,
reservations that hold a call's maximum cost at every level in one linked chain, wallets
with top-ups and credit lines, and token packs consumed first and expiring. In: a
:class:`~ciyuan.store.LedgerStore` (SQLite or PostgreSQL), usage and the price engine. Out:
:class:`~ciyuan.ledger.Transfer` values planned by pure functions (``budgets``,
``definitions``, ``wallets``, ``packs``) and submitted by the one I/O class,
:class:`Billing`. See docs/concepts/budgets.md.
"""

from ciyuan.billing.budgets import (
    Budget,
    BudgetPeriod,
    BudgetStatus,
    Hold,
    Level,
    LevelKind,
    Reservation,
    Scope,
    plan_release,
    plan_reserve,
    plan_settle,
)
from ciyuan.billing.packs import OpenPack, PackConsumption, plan_consumption, plan_expiry
from ciyuan.billing.periods import Period, PeriodKind, period_at, period_of
from ciyuan.billing.prepaid import UsageCharge
from ciyuan.billing.service import Billing
from ciyuan.billing.wallets import WalletStatus, from_nano, to_nano

__all__ = [
    "Billing",
    "Budget",
    "BudgetPeriod",
    "BudgetStatus",
    "Hold",
    "Level",
    "LevelKind",
    "OpenPack",
    "PackConsumption",
    "Period",
    "PeriodKind",
    "Reservation",
    "Scope",
    "UsageCharge",
    "WalletStatus",
    "from_nano",
    "period_at",
    "period_of",
    "plan_consumption",
    "plan_expiry",
    "plan_release",
    "plan_reserve",
    "plan_settle",
    "to_nano",
]
