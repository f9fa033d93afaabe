"""The names of the facts pay-for-quality and pay-for-outcome price on (``Call.signals``).

``Call.signals`` maps a name to an exact ``Decimal``. List-price rating ignores it; the
``pay_for_quality`` and ``pay_for_outcome`` charge models read these keys, and the invoice
path (``ciyuan.invoice.signals``) fills them from outcome reports:

* ``quality_score``: the call's quality score, a decimal in [0, 1];
* ``outcome_accepted`` / ``outcome_partial`` / ``outcome_rejected``: how many outcomes of each
  kind are billed with this call (1 for the call's own report; a task's report adds 1 to the
  task's carrier call);
* ``outcome_pending``: 1 while the dispute window of the call's outcome is open (nothing is
  billed for it yet; a later invoice bills it);
* ``outcome_in_task``: 1 when the call belongs to a task whose outcome is billed with another
  call of the task (this call has no outcome of its own to bill).

A bad signal (a score outside [0, 1], a negative count) raises ``charge-signal-invalid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ciyuan.price.errors import ChargeSignalError

__all__ = [
    "OUTCOME_ACCEPTED",
    "OUTCOME_COUNTS",
    "OUTCOME_IN_TASK",
    "OUTCOME_PARTIAL",
    "OUTCOME_PENDING",
    "OUTCOME_REJECTED",
    "QUALITY_SCORE",
    "outcome_counts",
    "quality_score",
]

QUALITY_SCORE = "quality_score"
OUTCOME_ACCEPTED = "outcome_accepted"
OUTCOME_PARTIAL = "outcome_partial"
OUTCOME_REJECTED = "outcome_rejected"
OUTCOME_PENDING = "outcome_pending"
OUTCOME_IN_TASK = "outcome_in_task"
#: Outcome kind → its count signal.
OUTCOME_COUNTS = {"accepted": OUTCOME_ACCEPTED, "partial": OUTCOME_PARTIAL,
                  "rejected": OUTCOME_REJECTED}


def quality_score(signals: Mapping[str, Decimal]) -> Decimal | None:
    """The call's quality score, or None when it has none."""
    score = signals.get(QUALITY_SCORE)
    if score is None:
        return None
    if not isinstance(score, Decimal) or not score.is_finite() or not 0 <= score <= 1:
        raise ChargeSignalError(f"signal {QUALITY_SCORE} = {score!r} must be a Decimal in "
                                f"[0, 1]; pass e.g. Decimal(\"0.8\")", field=QUALITY_SCORE)
    return score


def outcome_counts(signals: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Outcome kind → how many outcomes of it are billed with the call (whole, ≥ 0)."""
    counts = {}
    for kind, key in OUTCOME_COUNTS.items():
        count = signals.get(key, Decimal(0))
        if (not isinstance(count, Decimal) or not count.is_finite() or count < 0
                or count != count.to_integral_value()):
            raise ChargeSignalError(f"signal {key} = {count!r} must be a whole Decimal ≥ 0 "
                                    f"(how many {kind} outcomes the call bills)", field=key)
        counts[kind] = count
    return counts
