"""Errors of ``ciyuan.price``; each names the field at fault and the fix.

::

    InputError
    ├── CurrencyMismatchError       plan and price book in different currencies
    ├── ChargeSignalError           a quality score or outcome count a charge model cannot use
    └── InvalidPriceDataError       a LiteLLM JSON file cannot be imported
    NotFoundError
    ├── NoPriceError                the model has no price (in that currency)
    ├── PriceNotInForceError        no price version covers the call's time
    ├── MissingPriceError           usage in a category the price version does not price
    ├── UnknownPlanError            no plan of that name
    └── NoFxRateError               no dated FX rate on or before the day
    ConfigError
    ├── PriceFloatError             a price written as a TOML float
    ├── PriceOverlapError           two versions of one model's price overlap in time
    ├── PriceBookError              any other malformed price-book entry
    └── PlanError                   a malformed plan or charge model
"""

from __future__ import annotations

from ciyuan.core.errors import ConfigError, InputError, NotFoundError

__all__ = [
    "ChargeSignalError",
    "CurrencyMismatchError",
    "InvalidPriceDataError",
    "MissingPriceError",
    "NoFxRateError",
    "NoPriceError",
    "PlanError",
    "PriceBookError",
    "PriceFloatError",
    "PriceNotInForceError",
    "PriceOverlapError",
    "UnknownPlanError",
]


class CurrencyMismatchError(InputError):
    code = "currency-mismatch"
    summary = ("A plan and a price book (or two amounts) are in different currencies; convert "
               "explicitly with a dated FX rate (`--convert`).")


class ChargeSignalError(InputError):
    code = "charge-signal-invalid"
    summary = ("A call's quality score is outside [0, 1] or an outcome count is not a whole "
               "number ≥ 0; pass signals as exact Decimals (see ciyuan.price.signals).")


class InvalidPriceDataError(InputError):
    code = "price-data-invalid"
    summary = "A LiteLLM-style price JSON file is malformed; the message names the entry and key."


class NoPriceError(NotFoundError):
    code = "no-price"
    summary = ("The model is in the catalog but has no price (in the requested currency); add "
               "one to ciyuan.toml [prices] or import a price file.")


class PriceNotInForceError(NotFoundError):
    code = "price-not-in-force"
    summary = ("No price version covers the call's time (e.g. a date before the model's first "
               "price); the message gives the dates that are covered.")


class MissingPriceError(NotFoundError):
    code = "price-category-missing"
    summary = ("The usage has units (images, audio seconds) the price version does not price; "
               "add the price or drop the count.")


class UnknownPlanError(NotFoundError):
    code = "unknown-plan"
    summary = "No plan of that name; plans are defined in ciyuan.toml [plans.NAME]."


class NoFxRateError(NotFoundError):
    code = "no-fx-rate"
    summary = ("No dated exchange rate for that currency pair on or before the day; add one to "
               "the FX table.")


class PriceFloatError(ConfigError):
    code = "price-float"
    summary = ("A price is written as a TOML float; quote it (input = \"2.50\") so no digit is "
               "lost.")


class PriceOverlapError(ConfigError):
    code = "price-overlap"
    summary = ("Two price versions of one model and currency overlap in time; set effective_to "
               "on the earlier one.")


class PriceBookError(ConfigError):
    code = "price-book-invalid"
    summary = "A price-book entry is malformed; the message names the model, entry and key."


class PlanError(ConfigError):
    code = "plan-invalid"
    summary = "A plan or one of its charge models is malformed; the message names the key."
