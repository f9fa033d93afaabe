"""Catalog values and loading."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

from ciyuan.core.errors import ConfigError, UnknownModelError, closest

__all__ = ["Catalog", "ModelInfo", "ProviderInfo", "load_catalog"]


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    name: str
    country: str
    api_style: str  # "openai" | "anthropic"
    base_url: str


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: str
    tokenizer: str
    chat_format: str = "openai"
    kind: str = "chat"  # chat | embedding | completion
    aliases: tuple[str, ...] = ()
    modalities_in: tuple[str, ...] = ("text",)
    modalities_out: tuple[str, ...] = ("text",)
    context_window: int = 0
    max_output: int = 0
    release_date: dt.date | None = None
    open_weights: bool = False
    reasoning: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


_MODEL_KEYS = {
    "provider", "tokenizer", "chat_format", "kind", "aliases", "modalities_in",
    "modalities_out", "context_window", "max_output", "release_date", "open_weights",
    "reasoning",
}


def _model_from_toml(model_id: str, raw: Mapping[str, Any], where: str) -> ModelInfo:
    for required in ("provider", "tokenizer"):
        if required not in raw:
            raise ConfigError(
                f"{where}: model {model_id!r} has no {required!r}: add `{required} = \"...\"`",
                model=model_id,
                field=required,
            )
    release = raw.get("release_date")
    if isinstance(release, str):
        try:
            release = dt.date.fromisoformat(release)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: model {model_id!r} release_date {release!r} is not YYYY-MM-DD",
                model=model_id,
                field="release_date",
            ) from exc
    for int_field in ("context_window", "max_output"):
        value = raw.get(int_field, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(
                f"{where}: model {model_id!r} {int_field} must be a non-negative integer, "
                f"got {value!r}",
                model=model_id,
                field=int_field,
            )
    return ModelInfo(
        id=model_id,
        provider=str(raw["provider"]),
        tokenizer=str(raw["tokenizer"]),
        chat_format=str(raw.get("chat_format", "openai")),
        kind=str(raw.get("kind", "chat")),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        modalities_in=tuple(raw.get("modalities_in", ("text",))),
        modalities_out=tuple(raw.get("modalities_out", ("text",))),
        context_window=int(raw.get("context_window", 0)),
        max_output=int(raw.get("max_output", 0)),
        release_date=release if isinstance(release, dt.date) else None,
        open_weights=bool(raw.get("open_weights", False)),
        reasoning=bool(raw.get("reasoning", False)),
        extra={k: v for k, v in raw.items() if k not in _MODEL_KEYS},
    )


class Catalog:
    """Models and providers by id, with alias and ``provider/model`` lookup."""

    def __init__(self, providers: Iterable[ProviderInfo], models: Iterable[ModelInfo]) -> None:
        self.providers: dict[str, ProviderInfo] = {p.id: p for p in providers}
        self.models: dict[str, ModelInfo] = {}
        self._index: dict[str, str] = {}
        for model in models:
            self.models[model.id] = model
        for model in self.models.values():
            for name in (model.id, *model.aliases):
                self._index[name.lower()] = model.id

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self.models.values())

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._resolve(name) is not None

    def _resolve(self, name: str) -> str | None:
        key = name.strip().lower()
        if key in self._index:
            return self._index[key]
        if "/" in key:  # "openai/gpt-4o", "deepseek/deepseek-chat"
            tail = key.split("/", 1)[1]
            if tail in self._index:
                return self._index[tail]
        return None

    def get(self, name: str) -> ModelInfo:
        """The model called ``name`` (id or alias); UnknownModelError with suggestions."""
        model_id = self._resolve(name)
        if model_id is None:
            suggestions = closest(name, self._index_names())
            hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
            raise UnknownModelError(
                f"unknown model {name!r}.{hint} Run `ciyuan models` for the list, or add it "
                f"to ciyuan.toml under [models.\"{name}\"] with provider and tokenizer.",
                model=name,
                suggestions=suggestions,
            )
        return self.models[model_id]

    def _index_names(self) -> list[str]:
        names = list(self.models)
        for model in self.models.values():
            names.extend(model.aliases)
        return names

    def by_provider(self, provider: str) -> list[ModelInfo]:
        return [m for m in self.models.values() if m.provider == provider]


def _parse(data: Mapping[str, Any], where: str) -> tuple[list[ProviderInfo], list[ModelInfo]]:
    providers = [
        ProviderInfo(
            id=pid,
            name=str(raw.get("name", pid)),
            country=str(raw.get("country", "")),
            api_style=str(raw.get("api_style", "openai")),
            base_url=str(raw.get("base_url", "")),
        )
        for pid, raw in data.get("providers", {}).items()
    ]
    models = [_model_from_toml(mid, raw, where) for mid, raw in data.get("models", {}).items()]
    return providers, models


def _shipped() -> Mapping[str, Any]:
    text = resources.files("ciyuan.catalog").joinpath("data/models.toml").read_text("utf-8")
    return tomllib.loads(text, parse_float=Decimal)


def load_catalog(user: Mapping[str, Any] | None = None) -> Catalog:
    """The shipped catalog, with ``user`` (parsed ciyuan.toml) models and providers on top."""
    providers, models = _parse(_shipped(), "ciyuan/catalog/data/models.toml")
    if user:
        extra_providers, extra_models = _parse(user, "ciyuan.toml")
        providers += extra_providers
        models += extra_models
    catalog = Catalog(providers, models)
    for model in catalog:
        if model.provider not in catalog.providers:
            raise ConfigError(
                f"model {model.id!r} names provider {model.provider!r}, which is not defined: "
                f"add [providers.{model.provider}] to ciyuan.toml",
                model=model.id,
                field="provider",
            )
    return catalog
