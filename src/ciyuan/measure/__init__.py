"""The token measurement standard (SPEC §4.1).

In: text (whole, streamed or as chat messages), images/audio/video descriptions, a model name.
Out: ``Measurement`` values with native tokens (the model's own tokenizer, or an estimate
that says so) and standard tokens (the pinned reference encoding, o200k_base).

Modules: ``vocab`` (pinned vocabularies), ``backends`` (tiktoken / HF tokenizer.json behind
one Protocol), ``registry``, ``estimates`` (families without a public tokenizer),
``language`` (zh/en/code/mixed), ``boundaries`` and ``stream`` (chunked counting),
``measurer``, ``calibration`` (corpus and exchange rates), ``chat`` (message formatting
overhead per family), ``multimodal`` (image/audio/video formulas and their standard
conversion).
"""

from __future__ import annotations

import functools

from ciyuan.core.measurement import STANDARD_ENCODING, Measurement
from ciyuan.measure.backends import Tokenizer
from ciyuan.measure.chat import ChatCount, count_chat
from ciyuan.measure.measurer import Measurer
from ciyuan.measure.registry import TokenizerRegistry

__all__ = [
    "STANDARD_ENCODING",
    "ChatCount",
    "Measurement",
    "Measurer",
    "Tokenizer",
    "TokenizerRegistry",
    "count",
    "count_chat",
    "default_measurer",
]


@functools.cache
def default_measurer() -> Measurer:
    """The measurer for the shipped catalog and vocabularies (built once per process)."""
    from ciyuan.catalog.models import load_catalog

    return Measurer(load_catalog(), TokenizerRegistry(), threads=1)


def count(text: str, model: str = "gpt-4o") -> Measurement:
    """Measure ``text`` for ``model`` with the shipped catalog and vocabularies."""
    return default_measurer().count(text, model)
