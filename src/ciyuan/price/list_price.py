"""List-price lines: usage × the price version in force, by category, exact.

This is the per-token charge model's arithmetic. Quantities follow ``Usage``'s convention
(cached input and cache writes inside input, reasoning inside output), so each category is
billed once: the uncached text input is ``input − cached − cache writes − modality tokens``,
the text output is ``output − reasoning (when priced apart) − modality tokens``.

Fallbacks, each stated on the line it affects: a cache read or write with no price of its own
is billed at the input price; 1-hour cache writes without their own price at the cache-write
price; modality tokens without their own price at the text price of their side; reasoning
without its own price stays in output. Units (images, audio seconds) without a price are an
error rather than free; requests without a per-request price are simply not charged.
"""

from __future__ import annotations

from decimal import Decimal

from ciyuan.core.money import format_amount
from ciyuan.price.book import Sheet
from ciyuan.price.errors import MissingPriceError
from ciyuan.price.lines import Call, ChargeLine, line

__all__ = ["list_lines"]


class _Builder:
    __slots__ = ("call", "currency", "lines", "prices", "sheet")

    def __init__(self, call: Call, sheet: Sheet) -> None:
        self.call = call
        self.sheet = sheet
        self.prices = sheet.unit_prices
        self.currency = call.version.currency
        self.lines: list[ChargeLine] = []

    def price(self, *categories: str) -> tuple[str, Decimal]:
        for category in categories:
            found = self.prices.get(category)
            if found is not None:
                return category, found
        raise MissingPriceError(
            f"{self.call.version.version_id} has no {categories[0]!r} price (nor "
            f"{', '.join(categories[1:]) or 'a fallback'}); add {categories[0]} = \"...\" to the "
            f"model's price version", model=self.call.model, field=categories[0])

    def tokens(self, category: str, quantity: int, *fallbacks: str, detail: str = "",
               lookup: tuple[str, ...] = ()) -> None:
        if quantity <= 0:
            return
        chain = lookup or (category, *fallbacks)
        key = (category, chain)
        found = self.sheet.labels.get(key)
        if found is None:
            found = self.sheet.labels[key] = self._label(category, chain, bool(lookup))
        unit_price, label = found
        rule = f"{quantity:,}{label}; {detail}" if detail else f"{quantity:,}{label}"
        self.lines.append(line(category, quantity, "token", unit_price, rule,
                               tier=self.sheet.tier))

    def _label(self, category: str, chain: tuple[str, ...],
               explicit: bool) -> tuple[Decimal, str]:
        priced_as, unit_price = self.price(*chain)
        per_mtok = format(self.sheet.per_mtok[priced_as], "f")
        label = f" {category} tokens × {per_mtok} {self.currency}/M"
        if priced_as != category and not explicit:
            label += f" (no {category} price: billed at the {priced_as} price)"
        return unit_price, label

    def units(self, category: str, quantity: int, required: bool) -> None:
        if quantity <= 0:
            return
        unit_price = self.prices.get(category)
        if unit_price is None:
            if not required:
                return
            raise MissingPriceError(
                f"usage has {quantity} {category} units but {self.call.version.version_id} "
                f"has no per_{category} price; add per_{category} = \"...\"",
                model=self.call.model, field=category)
        rule = f"{quantity:,} × {format_amount(unit_price)} {self.currency} per {category}"
        self.lines.append(line(category, quantity, category, unit_price, rule,
                               tier=self.sheet.tier))


def list_lines(call: Call) -> list[ChargeLine]:
    """The list-price lines of ``call`` (no plan applied)."""
    u = call.usage
    sheet = call.version.sheet(u.input_tokens, u.output_tokens, call.at, call.service_tier)
    b = _Builder(call, sheet)
    text_input = u.input_tokens - u.cached_input_tokens - u.cache_write_tokens \
        - u.input_audio_tokens - u.input_image_tokens - u.input_video_tokens
    detail = ""
    if text_input + u.cached_input_tokens == u.input_tokens and u.cached_input_tokens:
        detail = f"{u.input_tokens:,} input − {u.cached_input_tokens:,} cached"  # common case
    elif text_input != u.input_tokens:
        parts = [f"{u.input_tokens:,} input"]
        for count, label in ((u.cached_input_tokens, "cached"),
                             (u.cache_write_tokens, "cache writes"),
                             (u.input_modality_tokens, "audio/image/video")):
            if count:
                parts.append(f"{count:,} {label}")
        detail = " − ".join(parts)
    b.tokens("input", text_input, detail=detail)
    if u.cached_input_tokens:
        b.tokens("cached_input", u.cached_input_tokens, "input")
    if u.cache_write_tokens:
        b.tokens("cache_write", u.cache_write_tokens - u.cache_write_1h_tokens, "input",
                 detail="5-minute TTL" if u.cache_write_1h_tokens else "")
        b.tokens("cache_write_1h", u.cache_write_1h_tokens, "cache_write", "input")
    if u.input_audio_tokens or u.input_image_tokens or u.input_video_tokens:
        b.tokens("input_audio", u.input_audio_tokens, "input")
        b.tokens("input_image", u.input_image_tokens, "input")
        b.tokens("input_video", u.input_video_tokens, "input")
    _output(b, u.output_tokens - u.output_audio_tokens - u.output_image_tokens,
            u.reasoning_tokens)
    if u.output_audio_tokens or u.output_image_tokens:
        b.tokens("output_audio", u.output_audio_tokens, "output")
        b.tokens("output_image", u.output_image_tokens, "output")
    if u.images or u.audio_seconds:
        b.units("image", u.images, required=True)
        b.units("audio_second", u.audio_seconds, required=True)
    if "request" in b.prices:
        b.units("request", u.requests, required=False)
    return b.lines


def _output(b: _Builder, text_output: int, reasoning: int) -> None:
    if reasoning and "thinking_output" in b.prices:
        b.tokens("output", text_output, lookup=("thinking_output",), detail=(
            f"thinking mode ({reasoning:,} reasoning tokens): all output at the thinking price"))
    elif reasoning and "reasoning" in b.prices:
        b.tokens("output", text_output - reasoning,
                 detail=f"{text_output:,} output − {reasoning:,} reasoning billed apart")
        b.tokens("reasoning", reasoning)
    else:
        b.tokens("output", text_output,
                 detail=f"includes {reasoning:,} reasoning tokens" if reasoning else "")

