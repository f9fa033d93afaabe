"""Interchange with LiteLLM's ``model_prices_and_context_window.json`` vocabulary.

Import: an entry's per-token USD costs become a ``PriceVersion`` (per million tokens, exact:
the JSON is parsed with ``parse_float=Decimal``). ``*_above_Nk_tokens`` keys and
``tiered_pricing`` ranges become long-context tiers, ``*_batches`` / ``*_flex`` /
``*_priority`` keys service tiers. Keys with no counterpart in our vocabulary are listed in
the version's note, never silently priced at zero. Export writes the same vocabulary back.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ciyuan.core.money import MONEY_CONTEXT, PER_MILLION, format_amount
from ciyuan.price.book import ContextTier, Override, PriceBook, PriceVersion
from ciyuan.price.errors import InvalidPriceDataError

__all__ = [
    "FIELD_MAP",
    "dump_litellm_json",
    "export_litellm",
    "import_litellm",
    "load_litellm_file",
    "version_from_entry",
]

#: LiteLLM per-token cost key → our category (prices per token there, per million here).
FIELD_MAP: dict[str, str] = {
    "input_cost_per_token": "input",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_token": "output",
    "output_cost_per_reasoning_token": "reasoning",
    "input_cost_per_audio_token": "input_audio",
    "input_cost_per_image_token": "input_image",
    "input_cost_per_video_token": "input_video",
    "output_cost_per_audio_token": "output_audio",
    "output_cost_per_image_token": "output_image",
}
#: LiteLLM per-unit cost key → our unit category (no scaling).
UNIT_MAP: dict[str, str] = {
    "output_cost_per_image": "image",
    "input_cost_per_second": "audio_second",
    "input_cost_per_request": "request",
}
_IGNORED = {"input_cost_per_token_cache_hit"}  # DeepSeek duplicate of cache_read
_TIER = re.compile(r"^(?P<base>.+)_above_(?P<n>\d+)k_tokens$")
_SERVICE = ("batches", "flex", "priority")
_SERVICE_NAME = {"batches": "batch", "flex": "flex", "priority": "priority"}


def load_litellm_file(path: Path) -> dict[str, Any]:
    """The JSON file, numbers as exact Decimals."""
    try:
        data = json.loads(path.read_text("utf-8"), parse_float=Decimal)
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidPriceDataError(f"cannot read LiteLLM price file {path}: {exc}",
                                    field="path") from None
    if not isinstance(data, dict):
        raise InvalidPriceDataError(f"{path}: expected a JSON object of models", field="path")
    return data


def _cost(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        hint = (" (parse the JSON with parse_float=Decimal: use load_litellm_file)"
                if type(value).__name__ == "float" else "")
        raise InvalidPriceDataError(f"{where}: expected a number, got {value!r}{hint}",
                                    field=where)
    return Decimal(value)


def _per_mtok(value: object, where: str) -> Decimal:
    return MONEY_CONTEXT.multiply(_cost(value, where), PER_MILLION)


def _split(key: str) -> tuple[str, str | None, int | None]:
    """``output_cost_per_token_above_200k_tokens_priority`` → (base, service, threshold)."""
    service = None
    for suffix in _SERVICE:
        if key.endswith(f"_{suffix}"):
            key, service = key[: -len(suffix) - 1], _SERVICE_NAME[suffix]
            break
    threshold = None
    match = _TIER.match(key)
    if match and match["base"] in FIELD_MAP:
        key, threshold = match["base"], int(match["n"]) * 1000
    return key, service, threshold


def version_from_entry(name: str, entry: Mapping[str, Any], source: str,
                        effective_from: dt.datetime, retrieved: dt.date,
                        book: str) -> PriceVersion | None:
    base: dict[str, Decimal] = {}
    tiers: dict[int, dict[str, Decimal]] = {}
    services: dict[str, dict[str, Decimal]] = {}
    skipped: list[str] = []
    for key, value in entry.items():
        if "cost" not in key or key in _IGNORED or value is None:
            continue
        field, service, threshold = _split(key)
        where = f"{name}.{key}"
        if field in UNIT_MAP and service is None and threshold is None:
            base[UNIT_MAP[field]] = _cost(value, where)
        elif field not in FIELD_MAP or (service is not None and threshold is not None):
            skipped.append(key)
        elif service is not None:
            services.setdefault(service, {})[FIELD_MAP[field]] = _per_mtok(value, where)
        elif threshold is not None:
            tiers.setdefault(threshold, {})[FIELD_MAP[field]] = _per_mtok(value, where)
        else:
            base[FIELD_MAP[field]] = _per_mtok(value, where)
    for i, item in enumerate(entry.get("tiered_pricing") or []):
        prices = {FIELD_MAP[k]: _per_mtok(v, f"{name}.tiered_pricing[{i}].{k}")
                  for k, v in item.items() if k in FIELD_MAP}
        low = int(_cost(item.get("range", [0])[0], f"{name}.tiered_pricing[{i}].range"))
        if low == 0:
            base.update(prices)
        else:
            tiers.setdefault(low, {}).update(prices)
    if "input" not in base and "output" not in base:
        return None
    note = f"imported from LiteLLM key {name!r}"
    if skipped:
        note += f"; not imported (no counterpart): {', '.join(sorted(skipped))}"
    return PriceVersion(
        model=name, currency="USD", effective_from=effective_from, effective_to=None,
        source=source, retrieved=retrieved, prices=base,
        tiers=tuple(ContextTier(n, p) for n, p in sorted(tiers.items())),
        service_tiers={k: Override(prices=v) for k, v in services.items()},
        note=note, book=book, litellm=name)


def import_litellm(data: Mapping[str, Any], *, source: str, effective_from: dt.datetime,
                   retrieved: dt.date, keys: Iterable[str] | None = None,
                   book: str = "litellm") -> PriceBook:
    """A price book from LiteLLM-vocabulary entries (all, or only ``keys``).

    Entries without a per-token input or output cost (image, audio, rerank models…) are
    left out. The source (file, version) is recorded on every version.
    """
    chosen = list(keys) if keys is not None else [k for k in data if k != "sample_spec"]
    versions = []
    for name in chosen:
        entry = data.get(name)
        if not isinstance(entry, Mapping):
            raise InvalidPriceDataError(f"LiteLLM data has no entry {name!r}", field=name)
        version = version_from_entry(name, entry, source, effective_from, retrieved, book)
        if version is not None:
            versions.append(version)
    return PriceBook(versions, name=book, version=book, source=source)


_REVERSE = {v: k for k, v in FIELD_MAP.items()}
_REVERSE_UNITS = {v: k for k, v in UNIT_MAP.items()}


def _per_token(per_mtok: Decimal) -> Decimal:
    return MONEY_CONTEXT.divide(per_mtok, PER_MILLION)


def _export_version(version: PriceVersion) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for category, price in version.prices.items():
        if category in _REVERSE:
            out[_REVERSE[category]] = _per_token(price)
        elif category in _REVERSE_UNITS:
            out[_REVERSE_UNITS[category]] = price
        elif category == "thinking_output":
            out["output_cost_per_reasoning_token"] = _per_token(price)
    for tier in version.tiers:
        if tier.max_output_tokens is not None or tier.above_input_tokens % 1000:
            continue
        for category, price in tier.prices.items():
            if category in _REVERSE:
                key = f"{_REVERSE[category]}_above_{tier.above_input_tokens // 1000}k_tokens"
                out[key] = _per_token(price)
    for name, override in version.service_tiers.items():
        suffix = "batches" if name == "batch" else name
        for category, price in override.apply(version.prices, tiered=False).items():
            if category in _REVERSE:
                out[f"{_REVERSE[category]}_{suffix}"] = _per_token(price)
    return out


def export_litellm(book: PriceBook, at: dt.datetime,
                   providers: Mapping[str, str] | None = None) -> dict[str, dict[str, object]]:
    """The USD versions in force at ``at``, in LiteLLM's vocabulary (keys: our model ids).

    ``providers`` maps model → LiteLLM provider name (``litellm_provider``).
    """
    out: dict[str, dict[str, object]] = {}
    for model in book.models():
        if "USD" not in book.currencies(model):
            continue
        try:
            version = book.at(model, at, "USD")
        except Exception:  # noqa: BLE001 - not in force at `at`: not exported
            continue
        entry: dict[str, object] = dict(_export_version(version))
        entry["mode"] = "embedding" if "output" not in version.prices else "chat"
        if providers and model in providers:
            entry["litellm_provider"] = providers[model]
        entry["source"] = version.source
        out[model] = entry
    return out


def _dump(value: object) -> str:
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def dump_litellm_json(data: Mapping[str, Mapping[str, object]]) -> str:
    """JSON text with Decimal prices written as exact numerals (never via binary floats)."""
    lines = [f"  {json.dumps(k)}: {_dump(dict(v))}" for k, v in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"
