"""Errors of quality assessment."""

from __future__ import annotations

from ciyuan.core.errors import CiyuanError

__all__ = ["QualityError", "UnknownScorerError"]


class QualityError(CiyuanError):
    code = "quality-error"
    summary = "A quality scorer could not be set up; the message says which option is wrong."


class UnknownScorerError(QualityError):
    code = "quality-unknown-scorer"
    summary = "The scorer named by a suite item is not registered; the message lists them."
