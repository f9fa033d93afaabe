"""The [invoice] table of ciyuan.toml."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ciyuan.core.money import FloatMoneyError
from ciyuan.invoice import AccountPlan, invoice_settings
from ciyuan.invoice.errors import InvoiceConfigError, InvoicePeriodInvalidError


def test_defaults() -> None:
    settings = invoice_settings({})
    assert (settings.issuer, settings.time_zone, settings.grace, settings.currency) == (
        "CY", "UTC", dt.timedelta(days=3), "USD")
    assert settings.tax is None and settings.plan_for("acme") == "list"
    assert settings.accounts == AccountPlan()


def test_a_full_table() -> None:
    settings = invoice_settings({
        "issuer": "ACME", "time_zone": "Asia/Shanghai", "grace_days": 5, "currency": "CNY",
        "plan": "team", "tax_name": "增值税", "tax_rate": "0.06",
        "tenants": {"big": {"plan": "enterprise"}},
        "accounts": {"receivable": "wallet:{tenant}:{currency}"}})
    assert settings.grace == dt.timedelta(days=5) and settings.currency == "CNY"
    assert settings.tax is not None and settings.tax.rate == Decimal("0.06")
    assert (settings.plan_for("big"), settings.plan_for("small")) == ("enterprise", "team")
    assert settings.accounts.receivable_account("t", "CNY").id == "wallet:t:CNY"


@pytest.mark.parametrize(("table", "error", "match"), [
    ({"issuer": "cy"}, InvoiceConfigError, "upper-case"),
    ({"grace_days": 90}, InvoiceConfigError, "grace_days"),
    ({"currency": "JPY"}, InvoiceConfigError, "currency"),
    ({"tax_rate": "1.5"}, InvoiceConfigError, "tax rate"),
    ({"tax_rate": 0.06}, FloatMoneyError, "float"),
    ({"tenants": {"a": {}}}, InvoiceConfigError, "tenants"),
    ({"accounts": {"bank": "x"}}, InvoiceConfigError, "accounts"),
    ({"colour": "blue"}, InvoiceConfigError, "unknown key"),
    ({"time_zone": "Nowhere/Else"}, InvoicePeriodInvalidError, "IANA"),
])
def test_bad_tables_name_the_key(table: dict[str, object], error: type[Exception],
                                 match: str) -> None:
    with pytest.raises(error, match=match):
        invoice_settings(table)
