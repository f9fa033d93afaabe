"""Ledger transfers of an issued document, so the ledger stays the system of record.

One linked chain per document (all legs or none), each leg's id derived from the document id
(``invoice:<document id>:<leg>``), so posting again after a crash or a retry changes nothing:

* ``subtotal``: receivable → revenue, the rounded subtotal (what is billed);
* ``rounding``: rounding → revenue, the residual (exact − rounded, summed over the lines,
  carried to nano-units half-even), so revenue holds what was rated and the rounding account
  what rounding gave away or gained;
* ``tax``: receivable → tax, the rounded tax;
* ``cost:<provider>:<currency>``: revenue → provider payable, the change in the records'
  ``upstream_cost_nano`` (what the provider will bill us).

A negative amount (a credit note) runs the same leg the other way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ciyuan.invoice.accounts import AccountPlan
from ciyuan.invoice.amounts import to_nano
from ciyuan.invoice.document import Document
from ciyuan.invoice.errors import InvoicePostingError
from ciyuan.ledger import Account, Result, Transfer, TransferFlags

if TYPE_CHECKING:  # the store layer depends on this package, not the other way round
    from ciyuan.store.protocol import LedgerStore

__all__ = ["document_transfers", "ensure_accounts", "post_document"]


def _leg(doc: Document, leg: str, debit: Account, credit: Account, amount_nano: int,
         code: str) -> Transfer | None:
    if amount_nano == 0:
        return None
    if amount_nano < 0:
        debit, credit, amount_nano = credit, debit, -amount_nano
    metadata = (("document", doc.number or doc.id), ("tenant", doc.tenant),
                ("period", doc.period.label))
    return Transfer(f"invoice:{doc.id}:{leg}", debit.id, credit.id, amount_nano, code,
                    metadata=metadata)


def document_transfers(doc: Document, plan: AccountPlan | None = None,
                       ) -> tuple[list[Account], list[Transfer]]:
    """The accounts a document touches and its transfers (one linked chain)."""
    plan = plan or AccountPlan()
    cur = doc.currency
    receivable, revenue = plan.receivable_account(doc.tenant, cur), plan.revenue_account(cur)
    rounding, tax = plan.rounding_account(cur), plan.tax_account(cur)
    code = "credit_note" if doc.kind == "credit_note" else "invoice"
    legs = [
        _leg(doc, "subtotal", receivable, revenue, to_nano(doc.subtotal), code),
        _leg(doc, "rounding", rounding, revenue, to_nano(doc.residual), "rounding"),
        _leg(doc, "tax", receivable, tax, to_nano(doc.tax_amount), "tax"),
    ]
    accounts = {a.id: a for a in (receivable, revenue, rounding, tax)}
    for cost in doc.provider_costs:
        payable = plan.payable_account(cost.provider, cost.currency)
        cost_revenue = plan.revenue_account(cost.currency)
        accounts.update({payable.id: payable, cost_revenue.id: cost_revenue})
        legs.append(_leg(doc, f"cost:{cost.provider}:{cost.currency}", cost_revenue, payable,
                         cost.amount_nano, "provider_cost"))
    transfers = [t for t in legs if t is not None]
    linked = [Transfer(t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code,
                       TransferFlags.LINKED if i < len(transfers) - 1 else TransferFlags.NONE,
                       metadata=t.metadata) for i, t in enumerate(transfers)]
    used = {a for t in linked for a in (t.debit_account_id, t.credit_account_id)}
    return [a for a in accounts.values() if a.id in used], linked


def ensure_accounts(ledger: LedgerStore, accounts: Sequence[Account]) -> None:
    """Create the accounts (idempotent); an id taken by a different account is an error."""
    if not accounts:
        return
    for account, result in zip(accounts, ledger.create_accounts(accounts), strict=True):
        if result != Result.OK:
            raise InvoicePostingError(
                f"ledger account {account.id!r} exists with other fields ({result}); point "
                "[invoice.accounts] at other ids", account=account.id, result=str(result))


def post_document(ledger: LedgerStore, doc: Document, plan: AccountPlan | None = None,
                  ) -> list[Transfer]:
    """Post an issued document's transfers; idempotent. Returns the transfers."""
    assert doc.is_issued, "only issued documents are posted"
    accounts, transfers = document_transfers(doc, plan)
    ensure_accounts(ledger, accounts)
    if not transfers:
        return []
    results = ledger.submit(transfers)
    failed = [(t.id, r) for t, r in zip(transfers, results, strict=True)
              if r not in (Result.OK, Result.LINKED_EVENT_FAILED)]
    if failed:
        where, result = failed[0]
        raise InvoicePostingError(
            f"the ledger refused {where} of {doc.number}: {result}; fix the account and run "
            "the command again (posting is idempotent)", transfer=where, result=str(result))
    return transfers
