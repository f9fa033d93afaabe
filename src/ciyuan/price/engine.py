"""Plans and the rating engine: pure functions from (call, plan, period state) to lines.

No rounding happens here: every amount is an exact ``Decimal`` (``MONEY_CONTEXT`` traps
``Inexact``); invoices round once per line later. The period state flows through: each call
returns the state to pass to the next call of the same period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import localcontext
from typing import Any

from ciyuan.core.money import CURRENCIES, MONEY_CONTEXT, exact_sum
from ciyuan.price.charges import CHARGE_MODELS, ChargeModel, ChargeModelRegistry, PerToken
from ciyuan.price.charges.base import Step
from ciyuan.price.errors import CurrencyMismatchError, PlanError, UnknownPlanError
from ciyuan.price.lines import Call, ChargeLine, Rating
from ciyuan.price.list_price import list_lines
from ciyuan.price.state import PeriodState

__all__ = [
    "LIST_PLAN", "Plan", "close_period", "get_plan", "open_period", "parse_plans", "rate_call",
]


@dataclass(frozen=True)
class Plan:
    """An ordered list of charge models; ``currency`` None = the price book's currency."""

    name: str
    components: tuple[ChargeModel, ...]
    currency: str | None = None
    description: str = ""


#: The default plan: the vendor's list price, nothing else.
LIST_PLAN = Plan("list", (PerToken(),), description="the vendor's list price")


def rate_call(call: Call, plan: Plan = LIST_PLAN, state: PeriodState | None = None) -> Rating:
    """Rate one call: itemized, exact lines and the period state after it."""
    version = call.version
    if plan is LIST_PLAN:  # the common case, without the plan machinery
        lines: tuple[ChargeLine, ...] = tuple(list_lines(call))
    else:
        _check_currency(plan, version.currency)
        state = state if state is not None else PeriodState()
        lines = ()
        with localcontext(MONEY_CONTEXT):
            for component in plan.components:
                lines, state = component.rate(call, lines, state)
    total = exact_sum([ln.amount for ln in lines])
    return Rating(call.model, version.currency, version.version_id, call.at, lines, total,
                  plan.name, version.source,
                  state.plus_rated(total) if state is not None else None)


def open_period(plan: Plan, state: PeriodState, currency: str) -> Step:
    """Charges due when a period opens (subscription fees), and the state after them."""
    return _period_hook(plan, state, currency, "open")


def close_period(plan: Plan, state: PeriodState, currency: str) -> Step:
    """Charges due when a period closes (minimum-commitment true-up, expired packs)."""
    return _period_hook(plan, state, currency, "close")


def _period_hook(plan: Plan, state: PeriodState, currency: str, hook: str) -> Step:
    _check_currency(plan, currency)
    out: list[ChargeLine] = []
    with localcontext(MONEY_CONTEXT):
        for component in plan.components:
            lines, state = getattr(component, hook)(state, currency)
            out.extend(lines)
    state = state.plus_rated(exact_sum(ln.amount for ln in out))
    return Step(tuple(out), state)


def _check_currency(plan: Plan, currency: str) -> None:
    if plan.currency is not None and plan.currency != currency:
        raise CurrencyMismatchError(
            f"plan {plan.name!r} is in {plan.currency} but the price is in {currency}; rate "
            f"with currency={plan.currency!r} (a price version in that currency, or an "
            f"explicit FX conversion with convert=True / --convert)",
            field="currency", plan=plan.name)


def parse_plans(table: Mapping[str, Any], where: str = "ciyuan.toml",
                registry: ChargeModelRegistry = CHARGE_MODELS) -> dict[str, Plan]:
    """``[plans.NAME]`` tables → plans. Each has ``charges``, an array of charge-model tables."""
    plans: dict[str, Plan] = {}
    for name, raw in table.items():
        here = f"{where}: plans.{name}"
        if not isinstance(raw, Mapping):
            raise PlanError(f"{here} must be a table", field=name)
        charges = raw.get("charges")
        if not isinstance(charges, list) or not charges:
            raise PlanError(f"{here}.charges: add at least one [[plans.{name}.charges]] with "
                            f"kind = \"per_token\" (or {', '.join(registry.kinds())})",
                            field=f"plans.{name}.charges")
        components = []
        for i, item in enumerate(charges):
            if not isinstance(item, Mapping):
                raise PlanError(f"{here}.charges[{i}] must be a table", field=name)
            component_name = str(item.get("name", f"{item.get('kind')}-{i}"))
            components.append(registry.build(component_name, item, f"{here}.charges[{i}]"))
        currency = raw.get("currency")
        if currency is not None and currency not in CURRENCIES:
            raise PlanError(f"{here}.currency {currency!r}: use one of {', '.join(CURRENCIES)}",
                            field="currency")
        plans[str(name)] = Plan(str(name), tuple(components), currency,
                                str(raw.get("description", "")))
    return plans


def get_plan(plans: Mapping[str, Plan], name: str | None) -> Plan:
    if name in (None, "list"):
        return LIST_PLAN
    assert name is not None
    if name not in plans:
        known = ", ".join(["list", *plans])
        raise UnknownPlanError(f"no plan {name!r}; known plans: {known}. Define it in "
                               f"ciyuan.toml as [plans.{name}] with [[plans.{name}.charges]]",
                               field="plan", plan=name)
    return plans[name]
