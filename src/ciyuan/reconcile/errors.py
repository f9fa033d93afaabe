"""Errors of ``ciyuan.reconcile``; each says what to do next.

::

    InputError
    └── ReconcileExportError   a provider usage export that cannot be read (names line, field)
    CiyuanError
    └── ReconcileApplyError    the ledger or usage store refused an adjustment
"""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError, InputError

__all__ = ["ReconcileApplyError", "ReconcileExportError"]


class ReconcileExportError(InputError, ValueError):
    code = "reconcile-export-invalid"
    summary = ("A provider usage export cannot be read: not CSV or JSON of a known shape, a "
               "missing column, or a bad value; the message names the line and field.")


class ReconcileApplyError(CiyuanError):
    code = "reconcile-apply-failed"
    summary = ("The ledger refused an adjusting transfer (the message gives the result code); "
               "fix the account and apply again, adjustments are idempotent.")
