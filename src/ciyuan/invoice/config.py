"""Invoice settings from the ``[invoice]`` table of ciyuan.toml (every key optional)::

    [invoice]
    issuer = "CY"                 # number prefix: CY-2026-000123
    time_zone = "Asia/Shanghai"   # billing months are calendar months here
    grace_days = 3                # late events are waited for this long
    currency = "USD"
    plan = "list"                 # a plan of [plans], for tenants without their own
    convert = false               # allow FX conversion into `currency`
    tax_name = "VAT"
    tax_rate = "0.06"

    [invoice.tenants.acme]
    plan = "team"

    [invoice.accounts]            # ledger account id templates (see ciyuan.invoice.accounts)
    receivable = "receivable:{tenant}:{currency}"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ciyuan.core.errors import InputError
from ciyuan.core.money import CURRENCIES, FloatMoneyError, decimal
from ciyuan.invoice.accounts import AccountPlan
from ciyuan.invoice.compose import TaxRule
from ciyuan.invoice.errors import InvoiceConfigError
from ciyuan.invoice.numbering import check_issuer
from ciyuan.invoice.period import DEFAULT_GRACE, time_zone

__all__ = ["InvoiceSettings", "invoice_settings"]

_KEYS = {"issuer", "time_zone", "grace_days", "currency", "plan", "convert", "tax_name",
         "tax_rate", "tenants", "accounts"}
#: A grace longer than a month would overlap the next period's invoice run.
_MAX_GRACE_DAYS = 31


@dataclass(frozen=True)
class InvoiceSettings:
    issuer: str = "CY"
    time_zone: str = "UTC"
    grace: dt.timedelta = DEFAULT_GRACE
    currency: str = "USD"
    plan: str = "list"
    convert: bool = False
    tax: TaxRule | None = None
    tenant_plans: Mapping[str, str] = field(default_factory=dict)
    accounts: AccountPlan = field(default_factory=AccountPlan)

    def __post_init__(self) -> None:
        check_issuer(self.issuer)
        time_zone(self.time_zone)
        if self.currency not in CURRENCIES:
            raise InvoiceConfigError(f"invoice.currency {self.currency!r}: use one of "
                                     f"{', '.join(CURRENCIES)}", field="invoice.currency")

    def plan_for(self, tenant: str) -> str:
        return self.tenant_plans.get(tenant, self.plan)


def _fail(key: str, message: str) -> InvoiceConfigError:
    return InvoiceConfigError(f"ciyuan.toml [invoice] {key}: {message}", field=f"invoice.{key}")


def _text(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise _fail(key, f"expected a non-empty string, got {value!r}")
    return value


def _tax(raw: Mapping[str, Any]) -> TaxRule | None:
    if "tax_rate" not in raw:
        return None
    try:
        rate = decimal(raw["tax_rate"], field="invoice.tax_rate")
    except FloatMoneyError:
        raise
    except InputError as error:
        raise _fail("tax_rate", f"{error.message}; write it quoted, e.g. \"0.06\"") from None
    return TaxRule(_text(raw, "tax_name", "Tax"), rate)


def _accounts(raw: object) -> AccountPlan:
    if not isinstance(raw, Mapping):
        raise _fail("accounts", "expected a table of account id templates")
    known = {f.name for f in fields(AccountPlan)}
    unknown = set(raw) - known
    if unknown or not all(isinstance(v, str) and v for v in raw.values()):
        raise _fail("accounts", f"keys must be among {', '.join(sorted(known))} with string "
                    "values")
    return AccountPlan(**{str(k): str(v) for k, v in raw.items()})


def invoice_settings(raw: Mapping[str, Any]) -> InvoiceSettings:
    """Settings from a parsed ``[invoice]`` table (an empty one gives the defaults)."""
    unknown = set(raw) - _KEYS
    if unknown:
        raise _fail(sorted(unknown)[0], f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    grace_days = raw.get("grace_days", DEFAULT_GRACE.days)
    if isinstance(grace_days, bool) or not isinstance(grace_days, int) \
            or not 0 <= grace_days <= _MAX_GRACE_DAYS:
        raise _fail("grace_days", f"expected a whole number of days 0..{_MAX_GRACE_DAYS}")
    tenants = raw.get("tenants", {})
    if not isinstance(tenants, Mapping) or not all(
            isinstance(t, Mapping) and isinstance(t.get("plan"), str) for t in tenants.values()):
        raise _fail("tenants", "expected [invoice.tenants.NAME] tables with plan = \"...\"")
    convert = raw.get("convert", False)
    if not isinstance(convert, bool):
        raise _fail("convert", "expected true or false")
    return InvoiceSettings(
        issuer=_text(raw, "issuer", "CY"), time_zone=_text(raw, "time_zone", "UTC"),
        grace=dt.timedelta(days=grace_days), currency=_text(raw, "currency", "USD"),
        plan=_text(raw, "plan", "list"), convert=convert, tax=_tax(raw),
        tenant_plans={str(k): str(v["plan"]) for k, v in tenants.items()},
        accounts=_accounts(raw.get("accounts", {})))
