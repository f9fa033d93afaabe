"""ciyuan.reconcile: reconciliation of our usage records with a provider's usage export.

Owns reading exports (OpenAI's Usage API buckets and per-request CSV/JSON, the simulated
provider's export), matching them against ``UsageRecord`` values (by upstream request id,
else model + time window + token counts), the four outcomes (matched / missing / extra /
mismatched, with amounts) and the adjusting transfers and record completions it proposes,
applied only when asked and idempotently.

In: an export file, usage records (``ciyuan.store.usage.UsageStore``), prices
(``ciyuan.price``), reservations in the ledger. Out: a :class:`Report`; with ``apply``,
ledger transfers and ``reconciled`` records. Depends on ``ciyuan.invoice`` for the account
plan and the nano-unit conversion. See docs/concepts/reconciliation.md.
"""

from ciyuan.reconcile.exports import ProviderExport, ProviderRow, load_export, parse_export
from ciyuan.reconcile.match import MatchOptions, match_buckets, match_requests
from ciyuan.reconcile.proposals import propose, transfer_id
from ciyuan.reconcile.report import STATUSES, Item, Proposal, Report
from ciyuan.reconcile.service import Reconciler

__all__ = [
    "STATUSES",
    "Item",
    "MatchOptions",
    "Proposal",
    "ProviderExport",
    "ProviderRow",
    "Reconciler",
    "Report",
    "load_export",
    "match_buckets",
    "match_requests",
    "parse_export",
    "propose",
    "transfer_id",
]
