"""Loading price books, the FX table and plans: shipped data, ciyuan.toml, extra files.

The shipped book is ``ciyuan/catalog/data/prices.toml``, read WITHOUT ``parse_float`` so a
TOML float is caught as an error rather than silently turned into binary. ciyuan.toml is read
by ``ciyuan.settings`` with ``parse_float=Decimal``; a price written there as a TOML float
arrives as a ``Decimal`` and is refused the same way (``PriceFloatError``: quote it).

User versions replace the shipped versions of the same model and currency wholesale, so a
user can correct a price without fighting the overlap check.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ciyuan.price.book import PriceBook, PriceVersion
from ciyuan.price.errors import PriceBookError
from ciyuan.price.fx import FxTable, parse_fx
from ciyuan.price.parse import parse_prices

__all__ = [
    "SHIPPED_PRICES",
    "load_fx_table",
    "load_price_book",
    "merge_versions",
    "read_price_file",
    "shipped_price_data",
]

SHIPPED_PRICES = "ciyuan/catalog/data/prices.toml"


def shipped_price_data() -> Mapping[str, Any]:
    text = resources.files("ciyuan.catalog").joinpath("data/prices.toml").read_text("utf-8")
    return tomllib.loads(text)


def read_price_file(path: Path) -> Mapping[str, Any]:
    """A standalone price-book TOML file (same format as the shipped one)."""
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise PriceBookError(f"cannot read price file {path}: {exc.strerror}",
                             field="path") from None
    except tomllib.TOMLDecodeError as exc:
        raise PriceBookError(f"{path} is not valid TOML: {exc}", field="path") from None


def merge_versions(base: Iterable[PriceVersion],
                   override: Iterable[PriceVersion]) -> list[PriceVersion]:
    """``base`` with every (model, currency) that ``override`` prices replaced by it."""
    extra = list(override)
    replaced = {(v.model.lower(), v.currency) for v in extra}
    return [v for v in base if (v.model.lower(), v.currency) not in replaced] + extra


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise PriceBookError(f"{where}: [{key}] must be a table", field=key)
    return value


def load_price_book(user: Mapping[str, Any] | None = None,
                    files: Iterable[Path] = ()) -> PriceBook:
    """The shipped book, then each price file, then ciyuan.toml ``[prices]`` on top."""
    shipped = shipped_price_data()
    book_name = str(shipped.get("book", "ciyuan"))
    version = str(shipped.get("version", ""))
    versions = parse_prices(_table(shipped, "prices", SHIPPED_PRICES), SHIPPED_PRICES,
                            book=f"{book_name}-{version}" if version else book_name)
    for path in files:
        data = read_price_file(path)
        name = str(data.get("book", path.stem))
        versions = merge_versions(versions,
                                  parse_prices(_table(data, "prices", str(path)), str(path),
                                               book=name))
    if user:
        versions = merge_versions(
            versions, parse_prices(_table(user, "prices", "ciyuan.toml"), "ciyuan.toml",
                                   book="ciyuan.toml"))
    return PriceBook(versions, name=book_name, version=version, source=SHIPPED_PRICES)


def load_fx_table(user: Mapping[str, Any] | None = None) -> FxTable:
    """The shipped dated FX rates plus ciyuan.toml ``[[fx]]`` entries."""
    entries = list(shipped_price_data().get("fx", []))
    rates = parse_fx(entries, SHIPPED_PRICES)
    if user and user.get("fx"):
        user_fx = user["fx"]
        if not isinstance(user_fx, list):
            raise PriceBookError("ciyuan.toml: fx must be an array of tables ([[fx]])",
                                 field="fx")
        rates += parse_fx(user_fx, "ciyuan.toml")
    return FxTable(rates)
