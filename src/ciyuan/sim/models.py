"""The models a sim-provider serves: built-in ``sim-*`` models, or catalog models by name.

A simulated model is counted as its *basis*, a catalog model: the basis gives the real
tokenizer and chat format (so usage is what that vendor would report) and whether the model
reasons. ``--models gpt-4o,qwen-plus`` serves catalog models under their own names instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ciyuan.catalog.models import Catalog
from ciyuan.core.errors import closest
from ciyuan.sim.config import DEFAULT_EMBEDDING_DIMS
from ciyuan.sim.errors import SimConfigError, SimUnknownModelError

__all__ = ["BUILTIN_SIM_MODELS", "SimModel", "lookup", "resolve_models"]

ApiStyle = Literal["openai", "anthropic"]


@dataclass(frozen=True)
class SimModel:
    """One served model: its public name, the catalog model it is counted as, its style."""

    name: str
    basis: str
    tokenizer: str
    chat_format: str
    api_style: ApiStyle = "openai"
    reasoning: bool = False
    kind: str = "chat"  # chat | embedding
    dimensions: int = DEFAULT_EMBEDDING_DIMS
    owned_by: str = "ciyuan-sim"

    def card(self, created: int) -> dict[str, object]:
        """The ``GET /v1/models`` entry; ``ciyuan`` says how the model is counted."""
        return {
            "id": self.name,
            "object": "model",
            "created": created,
            "owned_by": self.owned_by,
            "ciyuan": {
                "basis": self.basis,
                "tokenizer": self.tokenizer,
                "chat_format": self.chat_format,
                "api_style": self.api_style,
                "reasoning": self.reasoning,
                "kind": self.kind,
            },
        }


# name → (basis catalog model, api style, reasoning)
_BUILTIN: Mapping[str, tuple[str, ApiStyle, bool]] = {
    "sim-gpt": ("gpt-4o", "openai", False),
    "sim-qwen": ("qwen-turbo", "openai", False),
    "sim-deepseek": ("deepseek-chat", "openai", False),
    "sim-reasoner": ("o3-mini", "openai", True),
    "sim-claude": ("claude-sonnet-4-5", "anthropic", False),
    "sim-embed": ("text-embedding-3-small", "openai", False),
}
#: The names served when ``--models`` is not given.
BUILTIN_SIM_MODELS: tuple[str, ...] = tuple(_BUILTIN)


def _from_catalog(name: str, catalog: Catalog, basis: str, style: ApiStyle | None,
                  reasoning: bool | None, owned_by: str) -> SimModel:
    info = catalog.get(basis)
    provider = catalog.providers.get(info.provider)
    api_style: ApiStyle = style or (
        "anthropic" if provider is not None and provider.api_style == "anthropic" else "openai")
    return SimModel(
        name=name,
        basis=info.id,
        tokenizer=info.tokenizer,
        chat_format=info.chat_format,
        api_style=api_style,
        reasoning=info.reasoning if reasoning is None else reasoning,
        kind="embedding" if info.kind == "embedding" else "chat",
        owned_by=owned_by,
    )


def resolve_models(names: Iterable[str], catalog: Catalog) -> dict[str, SimModel]:
    """The served models by name: the built-ins for an empty list, else each name as a
    built-in ``sim-*`` model or a catalog chat/embedding model."""
    wanted = list(names) or list(BUILTIN_SIM_MODELS)
    out: dict[str, SimModel] = {}
    for name in wanted:
        if name in _BUILTIN:
            basis, style, reasoning = _BUILTIN[name]
            out[name] = _from_catalog(name, catalog, basis, style, reasoning, "ciyuan-sim")
        elif name in catalog:
            info = catalog.get(name)
            if info.kind not in ("chat", "embedding"):
                raise SimConfigError(
                    f"--models {name}: a {info.kind} model cannot be simulated; choose a chat "
                    f"or embedding model", option="--models")
            out[info.id] = _from_catalog(info.id, catalog, info.id, None, None, info.provider)
        else:
            hints = closest(name, [*BUILTIN_SIM_MODELS, *(m.id for m in catalog)])
            raise SimConfigError(
                f"--models {name}: not a sim model nor a catalog model; try "
                f"{', '.join(hints) or ', '.join(BUILTIN_SIM_MODELS)}", option="--models")
    return out


def lookup(models: Mapping[str, SimModel], name: object, kind: str) -> SimModel:
    """The served model ``name`` of ``kind``, or a 404 that lists what is served."""
    model = models.get(name) if isinstance(name, str) else None
    if model is None or model.kind != kind:
        served = ", ".join(m.name for m in models.values() if m.kind == kind)
        raise SimUnknownModelError(
            f"model {name!r} is not served here as a {kind} model; use one of: {served}",
            model=str(name))
    return model
