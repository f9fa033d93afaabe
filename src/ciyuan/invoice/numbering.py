"""Document numbers: one gapless sequence per issuer, series and calendar year.

Invoices are ``{issuer}-{year}-{seq:06d}`` (``CY-2026-000123``), credit notes
``{issuer}-CN-{year}-{seq:06d}``. A number is taken in the same database transaction that
stores the issued document, so a failed issue leaves no hole and two issuers never share one.
The year is the issue date's in the issuer's time zone.
"""

from __future__ import annotations

import re

from ciyuan.invoice.document import DocumentKind
from ciyuan.invoice.errors import InvoiceConfigError

__all__ = ["ISSUER_PATTERN", "check_issuer", "format_number", "series"]

#: Issuer prefixes: short, upper-case, safe in file names and ledger ids.
ISSUER_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,15}")
#: Six digits: a million documents per issuer and year before the number widens.
SEQ_DIGITS = 6


def check_issuer(issuer: str) -> str:
    if not ISSUER_PATTERN.fullmatch(issuer):
        raise InvoiceConfigError(
            f"invoice issuer {issuer!r} must be 1-16 upper-case letters or digits starting "
            "with a letter, e.g. \"CY\"", field="invoice.issuer")
    return issuer


def series(issuer: str, kind: DocumentKind) -> str:
    """The sequence a document draws its number from."""
    return f"{issuer}-CN" if kind == "credit_note" else issuer


def format_number(issuer: str, kind: DocumentKind, year: int, seq: int) -> str:
    assert seq >= 1, seq
    return f"{series(issuer, kind)}-{year:04d}-{seq:0{SEQ_DIGITS}d}"
