"""Formula families behind one Protocol, a registry of them by name, and model → family.

A family holds one provider's published rules (several versioned ``Formula`` records) and
picks the right one for a model. ``None`` from ``image``/``media`` means "this family has
no published rule for that modality"; the caller then falls back to the standard conversion.
Built-in families register exactly as a user's would.

Which family a catalog model belongs to: ``multimodal_family = "NAME"`` on the model in
ciyuan.toml wins; otherwise ``family_for`` decides by provider and model id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ciyuan.catalog.models import ModelInfo
from ciyuan.core.errors import ConfigError, InvalidImageError, InvalidMediaError, closest
from ciyuan.measure.multimodal.values import (
    FamilyCount,
    Formula,
    ImageInput,
    MediaInput,
    Modality,
)

__all__ = [
    "FAMILY_KEY",
    "FormulaFamily",
    "FormulaRegistry",
    "family_for",
    "pick_formula",
]

#: The ModelInfo.extra key (a ciyuan.toml model setting) that names a model's family.
FAMILY_KEY = "multimodal_family"

#: OpenAI models counted in 32 px patches (the vendor's "patch" list); the rest are tiles.
_OPENAI_PATCH_PREFIXES = ("gpt-4.1-mini", "gpt-4.1-nano", "o4-mini", "gpt-5-mini", "gpt-5-nano")
_OPENAI_AUDIO_MARKERS = ("audio", "realtime")
_PROVIDER_FAMILIES = {"anthropic": "anthropic", "google": "gemini", "alibaba": "qwen-vl"}


@runtime_checkable
class FormulaFamily(Protocol):
    """One provider's published multimodal token rules."""

    @property
    def name(self) -> str:
        """The registry key, e.g. ``"openai-tile"``."""
        ...

    def formulas(self) -> tuple[Formula, ...]:
        """Every formula this family can apply, current and superseded."""
        ...

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        """Tokens of ``image`` for ``model_id`` (``formula_id`` forces one of ours)."""
        ...

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        """Tokens of an audio/video part for ``model_id``; None where no rule is published."""
        ...


def pick_formula(
    family: FormulaFamily, modality: Modality, formula_id: str | None, default: Formula
) -> Formula:
    """``default``, or the family's formula ``formula_id`` if it counts ``modality``."""
    if formula_id is None:
        return default
    for formula in family.formulas():
        if formula.id == formula_id and formula.modality == modality:
            return formula
    choices = [f.id for f in family.formulas() if f.modality == modality]
    error = InvalidImageError if modality == "image" else InvalidMediaError
    raise error(
        f"formula {formula_id!r} is not a {modality} formula of family {family.name!r}: "
        f"choose one of {', '.join(choices) or '(none)'}, or leave formula_id out",
        formula=formula_id,
        family=family.name,
    )


def family_for(model: ModelInfo) -> str:
    """The family name that counts ``model``'s images, audio and video."""
    override = model.extra.get(FAMILY_KEY)
    if isinstance(override, str) and override:
        return override
    model_id = model.id.lower()
    if model.provider == "openai":
        if any(marker in model_id for marker in _OPENAI_AUDIO_MARKERS):
            return "openai-audio"
        if model_id.startswith(_OPENAI_PATCH_PREFIXES):
            return "openai-patch"
        return "openai-tile"
    return _PROVIDER_FAMILIES.get(model.provider, "standard")


class FormulaRegistry:
    """Family name → family. Registering a name again replaces the family (user overrides)."""

    def __init__(self, families: Iterable[FormulaFamily] = ()) -> None:
        self._families: dict[str, FormulaFamily] = {}
        for family in families:
            self.register(family)

    def register(self, family: FormulaFamily) -> None:
        ids = [f.id for f in family.formulas()]
        assert len(ids) == len(set(ids)), f"family {family.name}: duplicate formula ids"
        self._families[family.name] = family

    def names(self) -> list[str]:
        return list(self._families)

    def get(self, name: str) -> FormulaFamily:
        """The family called ``name``; ConfigError naming the known ones otherwise."""
        if name not in self._families:
            suggestions = closest(name, self._families) or self.names()
            raise ConfigError(
                f"no multimodal formula family {name!r}: set {FAMILY_KEY} in ciyuan.toml to "
                f"one of {', '.join(suggestions)}, or register the family first",
                field=FAMILY_KEY,
                value=name,
            )
        return self._families[name]

    def family_of(self, model: ModelInfo) -> FormulaFamily:
        return self.get(family_for(model))

    def formulas(self) -> list[Formula]:
        """Every registered formula, by family in registration order."""
        return [f for family in self._families.values() for f in family.formulas()]
