"""Pay-for-outcome: a price per accepted outcome instead of the call's token charges.

The model covers the calls it applies to (all, or those of ``models``): the lines earlier
charge models produced for such a call (the list price of its tokens) are kept with their
quantities but priced 0 ("covered by pay-for-outcome, list value X"), so the usage stays
visible on the invoice and only the outcome is billed. Then, from the call's signals
(``ciyuan.price.signals``):

* ``outcome_accepted`` outcomes are billed at ``price`` each;
* ``outcome_partial`` outcomes at ``price × partial_share`` (default share 0.5);
* ``outcome_rejected`` outcomes at 0 (shown, so the customer sees what it did not pay for);
* while ``outcome_pending`` (the dispute window is open) nothing is billed: the period is
  re-rated by every later invoice run, and the run after the window closes bills the outcome
  ("cumulative minus already billed");
* a call of a task whose outcome is billed with another call of the task (``outcome_in_task``)
  bills nothing of its own;
* a call with no outcome when its window closed is billed by ``unresolved``: ``"nothing"``
  (the default), ``"accepted"`` or ``"partial"`` (deemed so), or ``"list"`` (its token lines
  at the prices earlier models gave them).

The dispute window (``dispute_days`` after the call, or after the period's end with
``dispute_from = "period_end"``) is a :class:`DisputeWindow`; the invoice path reads it to
decide which report is in force for a call (the latest one before the window closed) and
whether the call is still pending.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal

from ciyuan.core.money import MONEY_CONTEXT, exact_sum, format_amount
from ciyuan.price.charges.base import CHARGE_MODELS, ChargeModelBase, Config, Step
from ciyuan.price.errors import PlanError
from ciyuan.price.lines import Call, ChargeLine, line
from ciyuan.price.signals import OUTCOME_IN_TASK, OUTCOME_PENDING, outcome_counts
from ciyuan.price.state import PeriodState

__all__ = ["MAX_DISPUTE_DAYS", "UNRESOLVED_RULES", "DisputeWindow", "PayForOutcome"]

#: A window longer than a year would keep a period's invoices open past the annual accounts.
MAX_DISPUTE_DAYS = 366
WindowStart = Literal["call", "period_end"]
Unresolved = Literal["nothing", "accepted", "partial", "list"]
UNRESOLVED_RULES: tuple[Unresolved, ...] = ("nothing", "accepted", "partial", "list")
_STARTS: tuple[WindowStart, ...] = ("call", "period_end")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DisputeWindow:
    """How long after a call (or after its period's end) its outcome can still change."""

    days: int
    starts: WindowStart = "call"

    def __post_init__(self) -> None:
        assert 0 <= self.days <= MAX_DISPUTE_DAYS and self.starts in _STARTS

    def closes_at(self, call_at: dt.datetime, period_end: dt.datetime | None) -> dt.datetime:
        """When the window of a call at ``call_at`` closes (period end needed for
        ``period_end`` windows; without one the call's own time is used)."""
        start = period_end if self.starts == "period_end" and period_end else call_at
        return start + dt.timedelta(days=self.days)

    def describe(self) -> str:
        after = "the call" if self.starts == "call" else "the period's end"
        return f"{self.days} days after {after}"


@dataclass(frozen=True)
class PayForOutcome(ChargeModelBase):
    kind: ClassVar[str] = "pay_for_outcome"
    name: str
    price: Decimal  # per accepted outcome, in the plan's currency
    window: DisputeWindow
    partial_share: Decimal = Decimal("0.5")
    unresolved: Unresolved = "nothing"
    models: tuple[str, ...] | None = None

    def applies(self, model: str) -> bool:
        return self.models is None or model.lower() in self.models

    def rate(self, call: Call, lines: tuple[ChargeLine, ...], state: PeriodState) -> Step:
        if not self.applies(call.model):
            return Step(lines, state)
        counts = outcome_counts(call.signals)
        pending = call.signals.get(OUTCOME_PENDING, _ZERO) > 0
        in_task = call.signals.get(OUTCOME_IN_TASK, _ZERO) > 0
        unresolved = not pending and not in_task and not any(counts.values())
        if unresolved and self.unresolved == "list":
            return Step((*lines, self._mark(
                "outcome_unresolved", "no outcome when the dispute window closed: billed at "
                "the token prices (unresolved = \"list\")")), state)
        out = [self._covered(ln, call.version.currency) if ln.amount else ln for ln in lines]
        if pending:
            closes = self.window.closes_at(call.at, state.end)
            out.append(self._mark("outcome_pending", f"outcome pending: the dispute window "
                                  f"({self.window.describe()}) closes {closes.isoformat()}; "
                                  f"a later invoice bills it"))
        elif unresolved:
            out.append(self._unresolved(call.version.currency))
        elif in_task and not any(counts.values()):
            out.append(self._mark("outcome_in_task", "the task's outcome is billed with "
                                  "another call of the task"))
        else:
            out.extend(self._outcomes(counts, call.version.currency))
        return Step(tuple(out), state)

    def partial_price(self) -> Decimal:
        return MONEY_CONTEXT.multiply(self.price, self.partial_share)

    def amount(self, accepted: Decimal, partial: Decimal) -> Decimal:
        """What ``accepted`` and ``partial`` settled outcomes bill (rejected ones bill 0)."""
        return exact_sum([MONEY_CONTEXT.multiply(accepted, self.price),
                          MONEY_CONTEXT.multiply(partial, self.partial_price())])

    def _mark(self, category: str, rule: str, unit_price: Decimal = _ZERO) -> ChargeLine:
        return line(category, 1, "call", unit_price, f"pay-for-outcome: {rule}",
                    component=self.name)

    def _covered(self, old: ChargeLine, currency: str) -> ChargeLine:
        return line(old.category, old.quantity, old.unit, _ZERO,
                    f"covered by pay-for-outcome {self.name!r} (list value "
                    f"{format_amount(old.amount)} {currency})", component=self.name,
                    tier=old.tier)

    def _outcomes(self, counts: dict[str, Decimal], currency: str) -> list[ChargeLine]:
        price = format_amount(self.price)
        prices = {"accepted": (self.price, f"{price} {currency} per accepted outcome"),
                  "partial": (self.partial_price(), f"{format_amount(self.partial_share)} × "
                              f"{price} {currency} per partial outcome"),
                  "rejected": (_ZERO, "nothing for a rejected outcome")}
        return [line(f"outcome_{kind}", count, "outcome", prices[kind][0],
                     f"pay-for-outcome: {prices[kind][1]}", component=self.name)
                for kind, count in counts.items() if count]

    def _unresolved(self, currency: str) -> ChargeLine:
        rule = "no outcome when the dispute window closed"
        if self.unresolved == "accepted":
            return self._mark("outcome_unresolved", f"{rule}: deemed accepted, "
                              f"{format_amount(self.price)} {currency}", self.price)
        if self.unresolved == "partial":
            return self._mark("outcome_unresolved", f"{rule}: deemed partial, "
                              f"{format_amount(self.partial_price())} {currency}",
                              self.partial_price())
        return self._mark("outcome_unresolved", f"{rule}: nothing billed")

    @classmethod
    def from_config(cls, name: str, config: Config) -> PayForOutcome:
        config.check_keys(("price", "partial_share", "dispute_days", "dispute_from",
                           "unresolved", "models"))
        share = config.price("partial_share", Decimal("0.5"))
        if share > 1:
            raise PlanError(f"{config.where}.partial_share = {share}: a share of the price is "
                            f"in [0, 1], e.g. \"0.5\"", field=f"{config.where}.partial_share")
        if "dispute_days" not in config.raw:
            raise PlanError(f"{config.where}.dispute_days: missing; say how many days an "
                            f"outcome can still change, e.g. dispute_days = 7 (0 for none)",
                            field=f"{config.where}.dispute_days")
        days = config.count("dispute_days")
        if days > MAX_DISPUTE_DAYS:
            raise PlanError(f"{config.where}.dispute_days = {days}: at most "
                            f"{MAX_DISPUTE_DAYS}", field=f"{config.where}.dispute_days")
        starts = config.text("dispute_from", "call")
        unresolved = config.text("unresolved", "nothing")
        if starts not in _STARTS:
            raise PlanError(f"{config.where}.dispute_from = {starts!r}: use \"call\" or "
                            f"\"period_end\"", field=f"{config.where}.dispute_from")
        if unresolved not in UNRESOLVED_RULES:
            raise PlanError(f"{config.where}.unresolved = {unresolved!r}: use one of "
                            f"{', '.join(UNRESOLVED_RULES)}", field=f"{config.where}.unresolved")
        return cls(name=name, price=config.price("price"),
                   window=DisputeWindow(days, starts),
                   partial_share=share, unresolved=unresolved,
                   models=config.names("models"))


CHARGE_MODELS.register(PayForOutcome.kind, PayForOutcome.from_config)
