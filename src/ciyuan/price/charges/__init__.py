"""Charge models: how usage becomes money (one Protocol, one registry).

In: a ``Call`` (usage, model, time, price version, signals), the lines earlier charge models
produced, and the ``PeriodState``. Out: the lines after this model, and the new state.

Built-in kinds (each registers itself in ``CHARGE_MODELS`` exactly as a plugin would):
``per_token`` (vendor list price by category), ``graduated``, ``volume``, ``package``,
``two_part`` (fee + included allowance + overage), ``free_quota``, ``minimum_commitment``,
``token_packs`` (prepaid, expiring, FIFO by expiry), ``markup``, ``discount``,
``reseller_fee``, ``pay_for_quality`` (a price scaled by the call's quality score, within a
floor and a cap) and ``pay_for_outcome`` (a price per accepted outcome instead of token
charges, with a dispute window); the last two read ``Call.signals``
(``ciyuan.price.signals``).
"""

from ciyuan.price.charges.adjust import Adjustment, Discount, Markup, ResellerFee
from ciyuan.price.charges.allowance import (
    FreeQuota,
    MinimumCommitment,
    TwoPartTariff,
    cover_tokens,
)
from ciyuan.price.charges.base import (
    CHARGE_MODELS,
    METERS,
    ChargeModel,
    ChargeModelBase,
    ChargeModelRegistry,
    Config,
    Step,
)
from ciyuan.price.charges.outcome import DisputeWindow, PayForOutcome
from ciyuan.price.charges.packs import TokenPacks
from ciyuan.price.charges.per_token import PerToken
from ciyuan.price.charges.quality import PayForQuality, QualityTier
from ciyuan.price.charges.tiers import Graduated, Package, Tier, Volume

__all__ = [
    "CHARGE_MODELS",
    "METERS",
    "Adjustment",
    "ChargeModel",
    "ChargeModelBase",
    "ChargeModelRegistry",
    "Config",
    "DisputeWindow",
    "Discount",
    "FreeQuota",
    "Graduated",
    "Markup",
    "MinimumCommitment",
    "Package",
    "PayForOutcome",
    "PayForQuality",
    "PerToken",
    "QualityTier",
    "ResellerFee",
    "Step",
    "Tier",
    "TokenPacks",
    "TwoPartTariff",
    "Volume",
    "cover_tokens",
]
