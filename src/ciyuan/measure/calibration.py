"""The calibration corpus and the exchange-rate table.

The exchange rate of a tokenizer for a language class is native ÷ standard tokens over that
class's corpus file. The table is generated from the shipped corpus by
``ciyuan calibrate --write`` and committed as ``measure/data/exchange_rates.json``; a test
checks that the committed table matches the corpus and vocabularies.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ciyuan.core.language import LANGUAGE_CLASSES, LanguageClass
from ciyuan.core.measurement import STANDARD_ENCODING
from ciyuan.measure.registry import TokenizerRegistry

__all__ = [
    "ExchangeRateTable",
    "RATE_DIGITS",
    "build_exchange_rates",
    "corpus_text",
    "load_exchange_rates",
    "rates_file",
]

RATE_DIGITS = Decimal("0.0001")
TABLE_VERSION = 1


def corpus_text(language: LanguageClass) -> str:
    """The shipped calibration text of a language class."""
    return resources.files("ciyuan.measure").joinpath(f"corpus/{language}.txt").read_text("utf-8")


def corpus_digest() -> str:
    digest = hashlib.sha256()
    for language in LANGUAGE_CLASSES:
        digest.update(corpus_text(language).encode("utf-8"))
    return digest.hexdigest()


def rates_file() -> Path:
    return Path(str(resources.files("ciyuan.measure").joinpath("data/exchange_rates.json")))


@dataclass(frozen=True)
class ExchangeRateTable:
    """Native ÷ standard tokens per tokenizer and language class."""

    reference: str
    corpus_sha256: str
    standard_tokens: dict[LanguageClass, int]
    corpus_bytes: dict[LanguageClass, int]
    native_tokens: dict[str, dict[LanguageClass, int]]
    exact: dict[str, bool]

    def rate(self, tokenizer: str, language: LanguageClass) -> Decimal:
        native = self.native_tokens[tokenizer][language]
        return (Decimal(native) / Decimal(self.standard_tokens[language])).quantize(
            RATE_DIGITS, rounding=ROUND_HALF_EVEN
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": TABLE_VERSION,
            "reference": self.reference,
            "corpus_sha256": self.corpus_sha256,
            "corpus_bytes": self.corpus_bytes,
            "standard_tokens": self.standard_tokens,
            "tokenizers": {
                name: {
                    "exact": self.exact[name],
                    "native_tokens": counts,
                    "rates": {lang: str(self.rate(name, lang)) for lang in counts},
                }
                for name, counts in self.native_tokens.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExchangeRateTable:
        return cls(
            reference=data["reference"],
            corpus_sha256=data["corpus_sha256"],
            standard_tokens=data["standard_tokens"],
            corpus_bytes=data["corpus_bytes"],
            native_tokens={k: v["native_tokens"] for k, v in data["tokenizers"].items()},
            exact={k: bool(v["exact"]) for k, v in data["tokenizers"].items()},
        )


def build_exchange_rates(registry: TokenizerRegistry) -> ExchangeRateTable:
    """Count the corpus with every available tokenizer of ``registry``."""
    texts = {lang: corpus_text(lang) for lang in LANGUAGE_CLASSES}
    reference = registry.get(STANDARD_ENCODING)
    standard = {lang: reference.count(text) for lang, text in texts.items()}
    native: dict[str, dict[LanguageClass, int]] = {}
    exact: dict[str, bool] = {}
    for info in registry.info():
        if not info.available:
            continue
        tokenizer = registry.get(info.name)
        native[info.name] = {lang: tokenizer.count(text) for lang, text in texts.items()}
        exact[info.name] = tokenizer.exact
    return ExchangeRateTable(
        reference=STANDARD_ENCODING,
        corpus_sha256=corpus_digest(),
        standard_tokens=standard,
        corpus_bytes={lang: len(t.encode("utf-8")) for lang, t in texts.items()},
        native_tokens=native,
        exact=exact,
    )


def load_exchange_rates() -> ExchangeRateTable:
    """The committed table shipped in the package."""
    return ExchangeRateTable.from_json(json.loads(rates_file().read_text("utf-8")))
