"""Prices and rating (SPEC §4.2): what a call costs, exactly, and why.

In: ``Usage`` (native counts by category, ``ciyuan.core.usage``), a model name (resolved
through ``ciyuan.catalog``), an instant, optionally a plan and a period state. Price books come
from the shipped ``catalog/data/prices.toml``, ciyuan.toml ``[prices]`` and imported LiteLLM
JSON files. Out: a ``Rating`` — itemized ``ChargeLine``s in exact ``Decimal`` (no rounding;
invoices round once per line later) and the period state after the call.

Modules: ``book`` (price versions, lookup by instant), ``sheet`` (tiers, service tiers,
off-peak windows), ``parse``/``load`` (TOML → book), ``fx`` (dated exchange rates, explicit
conversion), ``list_price`` (usage × price version), ``charges`` (the charge-model Protocol,
registry and built-in models), ``engine`` (plans and the pure rating functions), ``api``
(the façade, ``rate``), ``compare`` (price per million standard tokens, blended 3:1),
``litellm`` (import/export of LiteLLM's price JSON), ``crosscheck`` (ours against LiteLLM's).
"""

from ciyuan.price.api import Pricer, as_instant, default_pricer, pricer_from_config, rate
from ciyuan.price.book import PriceBook, PriceVersion
from ciyuan.price.charges import CHARGE_MODELS, ChargeModel, ChargeModelBase, Step
from ciyuan.price.engine import LIST_PLAN, Plan, close_period, open_period, rate_call
from ciyuan.price.fx import FxRate, FxTable
from ciyuan.price.lines import Call, ChargeLine, Rating
from ciyuan.price.load import load_fx_table, load_price_book
from ciyuan.price.state import PeriodState, TokenPack

__all__ = [
    "CHARGE_MODELS",
    "LIST_PLAN",
    "Call",
    "ChargeLine",
    "ChargeModel",
    "ChargeModelBase",
    "FxRate",
    "FxTable",
    "PeriodState",
    "Plan",
    "PriceBook",
    "PriceVersion",
    "Pricer",
    "Rating",
    "Step",
    "TokenPack",
    "as_instant",
    "close_period",
    "default_pricer",
    "load_fx_table",
    "load_price_book",
    "open_period",
    "pricer_from_config",
    "rate",
    "rate_call",
]
