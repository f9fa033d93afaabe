"""The ledger accounts invoices, credit notes and reconciliation post to.

Account ids are templates so a deployment can point them at its own chart of accounts
(``[invoice.accounts]`` in ciyuan.toml). Defaults, one set per currency:

============  ======================================  ==================  ===============
account       id                                      kind                normal balance
============  ======================================  ==================  ===============
receivable    ``receivable:{tenant}:{currency}``      credit_line         debit (owed)
revenue       ``revenue:{currency}``                  platform_revenue    credit
rounding      ``rounding:{currency}``                 rounding            either
tax           ``tax:{currency}``                      funding (outside)   credit (owed)
payable       ``payable:{provider}:{currency}``       provider_payable    credit (owed)
============  ======================================  ==================  ===============

Tax collected is owed to a tax authority outside the ledger, hence a ``funding`` account.
"""

from __future__ import annotations

from dataclasses import dataclass

from ciyuan.ledger import Account, AccountKind

__all__ = ["AccountPlan", "PLATFORM"]

#: Owner of the platform's own accounts.
PLATFORM = "platform"


@dataclass(frozen=True)
class AccountPlan:
    """Templates of account ids; ``{tenant}``, ``{provider}`` and ``{currency}`` are filled."""

    receivable: str = "receivable:{tenant}:{currency}"
    revenue: str = "revenue:{currency}"
    rounding: str = "rounding:{currency}"
    tax: str = "tax:{currency}"
    payable: str = "payable:{provider}:{currency}"

    def receivable_account(self, tenant: str, currency: str) -> Account:
        return Account(self.receivable.format(tenant=tenant, currency=currency),
                       AccountKind.CREDIT_LINE, currency, tenant)

    def revenue_account(self, currency: str) -> Account:
        return Account(self.revenue.format(currency=currency), AccountKind.PLATFORM_REVENUE,
                       currency, PLATFORM)

    def rounding_account(self, currency: str) -> Account:
        return Account(self.rounding.format(currency=currency), AccountKind.ROUNDING,
                       currency, PLATFORM)

    def tax_account(self, currency: str) -> Account:
        return Account(self.tax.format(currency=currency), AccountKind.FUNDING, currency, "tax")

    def payable_account(self, provider: str, currency: str) -> Account:
        return Account(self.payable.format(provider=provider, currency=currency),
                       AccountKind.PROVIDER_PAYABLE, currency, provider)
