"""The committed exchange-rate table is what the shipped corpus and vocabularies give."""

from __future__ import annotations

from ciyuan.core.language import LANGUAGE_CLASSES
from ciyuan.measure.calibration import build_exchange_rates, corpus_text, load_exchange_rates
from ciyuan.measure.measurer import Measurer


def test_corpus_files_are_at_least_50_kb() -> None:
    for language in LANGUAGE_CLASSES:
        assert len(corpus_text(language).encode("utf-8")) >= 50_000, language


def test_committed_table_matches_a_recount(measurer: Measurer) -> None:
    shipped = load_exchange_rates()
    fresh = build_exchange_rates(measurer.registry)
    hint = "corpus changed: run `ciyuan calibrate --write`"
    assert shipped.corpus_sha256 == fresh.corpus_sha256, hint
    assert shipped.to_json() == fresh.to_json(), "rates changed: run `ciyuan calibrate --write`"


def test_every_catalog_tokenizer_has_rates(measurer: Measurer) -> None:
    rates = load_exchange_rates()
    for model in measurer.catalog:
        for language in LANGUAGE_CLASSES:
            assert rates.rate(model.tokenizer, language) > 0


def test_reference_rate_is_one() -> None:
    rates = load_exchange_rates()
    assert {str(rates.rate("o200k_base", lang)) for lang in LANGUAGE_CLASSES} == {"1.0000"}
