"""Price books: parsing, effective dates, lookup by instant, and the errors for bad data."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.core.errors import ConfigError, NotFoundError
from ciyuan.price.book import PriceBook
from ciyuan.price.errors import (
    NoPriceError,
    PriceBookError,
    PriceFloatError,
    PriceNotInForceError,
    PriceOverlapError,
)
from ciyuan.price.load import load_price_book, read_price_file
from ciyuan.price.parse import parse_prices

UTC = dt.UTC

BOOK = """
[[prices."m"]]
currency = "USD"
effective_from = "2025-01-01"
effective_to = "2025-06-01"
source = "https://example.com/old"
retrieved = "2026-11-22"
input = "2.00"
output = "8.00"

[[prices."m"]]
currency = "USD"
effective_from = "2025-06-01"
source = "https://example.com/new"
retrieved = "2026-11-22"
input = "1.00"
output = "4.00"

[[prices."m"]]
currency = "CNY"
effective_from = "2025-01-01"
source = "https://example.cn"
retrieved = "2026-11-22"
input = "7"
output = "28"
"""


def _book(text: str) -> PriceBook:
    return PriceBook(parse_prices(tomllib.loads(text)["prices"], "test.toml"))


def test_lookup_by_instant_picks_the_version_in_force() -> None:
    book = _book(BOOK)
    old = book.at("m", dt.datetime(2025, 5, 31, 23, 59, tzinfo=UTC))
    new = book.at("m", dt.datetime(2025, 6, 1, tzinfo=UTC))
    assert old.prices["input"] == Decimal("2.00") and old.source.endswith("old")
    assert new.prices["input"] == Decimal("1.00")
    assert new.version_id == "ciyuan:m@2025-06-01:USD"
    assert book.currencies("m") == ["USD", "CNY"]
    assert book.at("m", dt.datetime(2025, 3, 1, tzinfo=UTC), "CNY").prices["output"] == 28


def test_a_date_before_the_first_price_is_a_typed_error_with_the_first_date() -> None:
    with pytest.raises(PriceNotInForceError) as info:
        _book(BOOK).at("m", dt.datetime(2024, 12, 31, tzinfo=UTC))
    assert isinstance(info.value, NotFoundError)
    assert "first price starts 2025-01-01" in info.value.message
    assert info.value.details["field"] == "at"


def test_unknown_currency_and_unpriced_model() -> None:
    book = _book(BOOK.split('[[prices."m"]]\ncurrency = "CNY"')[0])
    with pytest.raises(NoPriceError, match="--convert"):
        book.at("m", dt.datetime(2025, 3, 1, tzinfo=UTC), "CNY")
    with pytest.raises(NoPriceError, match=r"\[\[prices.\"other\"\]\]"):
        book.at("other", dt.datetime(2025, 3, 1, tzinfo=UTC))


def test_overlapping_versions_are_refused_and_the_fix_is_named() -> None:
    overlapping = BOOK.replace('effective_to = "2025-06-01"\n', "")
    with pytest.raises(PriceOverlapError) as info:
        _book(overlapping)
    assert isinstance(info.value, ConfigError)
    assert 'effective_to = "2025-06-01"' in info.value.message
    with pytest.raises(PriceOverlapError):
        _book(BOOK.replace('effective_to = "2025-06-01"', 'effective_to = "2025-07-01"'))


def test_a_price_written_as_a_toml_float_is_refused_with_the_quoted_fix() -> None:
    with pytest.raises(PriceFloatError) as info:
        _book(BOOK.replace('input = "2.00"', "input = 2.0"))
    assert 'input = "2.0"' in info.value.message and "float" in info.value.message
    # ciyuan.toml is parsed with parse_float=Decimal: the float arrives as a Decimal
    user = tomllib.loads(BOOK.replace('output = "4.00"', "output = 4.00"), parse_float=Decimal)
    with pytest.raises(PriceFloatError, match='output = "4.00"'):
        load_price_book(user)


@pytest.mark.parametrize(("change", "message"), [
    (('currency = "USD"', 'currency = "EUR"'), "use one of USD, CNY"),
    (('input = "2.00"', 'input = "-1"'), "negative"),
    (('input = "2.00"', 'input = "two"'), "not a decimal number"),
    (('input = "2.00"', 'inptu = "2.00"'), "unknown key 'inptu'"),
    (('effective_from = "2025-01-01"', 'effective_from = "Jan 2025"'), "YYYY-MM-DD"),
    (('effective_to = "2025-06-01"', 'effective_to = "2024-06-01"'), "is not after"),
    (('source = "https://example.com/old"\n', ""), "missing 'source'"),
])
def test_malformed_entries_name_the_key(change: tuple[str, str], message: str) -> None:
    with pytest.raises(PriceBookError, match=message):
        _book(BOOK.replace(*change, 1))


def test_instants_with_offsets_and_naive_times() -> None:
    text = BOOK.replace('effective_to = "2025-06-01"',
                        'effective_to = "2025-06-01T07:00:00+08:00"')  # 2025-05-31 23:00 UTC
    book = _book(text)
    assert book.at("m", dt.datetime(2025, 5, 31, 22, 59, tzinfo=UTC)).prices["input"] == 2
    with pytest.raises(PriceNotInForceError, match="Add a version covering that time"):
        book.at("m", dt.datetime(2025, 5, 31, 23, 30, tzinfo=UTC))
    with pytest.raises(PriceBookError, match="UTC offset"):
        _book(BOOK.replace('effective_to = "2025-06-01"', 'effective_to = "2025-06-01T08:00:00"'))


def test_user_prices_replace_shipped_versions_of_that_model_and_currency(tmp_path: Path) -> None:
    user = tomllib.loads(BOOK.replace('"m"', '"gpt-4o"'), parse_float=Decimal)
    book = load_price_book(user)
    version = book.at("gpt-4o", dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert version.prices["input"] == 1 and version.book == "ciyuan.toml"
    assert book.at("gpt-4o-mini", dt.datetime(2026, 1, 1, tzinfo=UTC)).book.startswith("ciyuan-")
    path = tmp_path / "extra.toml"
    path.write_text('book = "acme"\n' + BOOK)
    assert load_price_book(files=[path]).at("m", dt.datetime(2026, 1, 1, tzinfo=UTC)).book == \
        "acme"
    with pytest.raises(PriceBookError, match="cannot read"):
        read_price_file(tmp_path / "missing.toml")
