"""Multimodal token measurement (SPEC §4.1): images, audio and video → native and standard tokens.

In: an ``ImageInput`` (pixel size, detail) or a ``MediaInput`` (seconds, audio/video) and a
catalog model. Out: ``MediaTokens`` with the provider's published formula applied (native,
``estimated``) and the pinned standard conversion (standard, the same for every model).

Modules: ``values`` (inputs, ``Formula`` records, results), ``registry`` (the family
Protocol, the registry, model → family), one module per provider family (``openai``,
``anthropic``, ``gemini``, ``qwen``) and ``standard`` (the pinned conversion). Every formula
carries its source URL, retrieval date, version, rounding and recorded conflicts;
docs/concepts/multimodal.md explains them.
"""

from __future__ import annotations

import functools

from ciyuan.catalog.models import Catalog, ModelInfo, load_catalog
from ciyuan.measure.multimodal.anthropic import AnthropicFamily
from ciyuan.measure.multimodal.gemini import GeminiFamily
from ciyuan.measure.multimodal.openai import (
    OpenAIAudioFamily,
    OpenAIPatchFamily,
    OpenAITileFamily,
)
from ciyuan.measure.multimodal.qwen import QwenVLFamily
from ciyuan.measure.multimodal.registry import (
    FAMILY_KEY,
    FormulaFamily,
    FormulaRegistry,
    family_for,
)
from ciyuan.measure.multimodal.standard import (
    STANDARD_AUDIO,
    STANDARD_IMAGE,
    STANDARD_VIDEO,
    StandardFamily,
    standard_formula,
    standard_image_tokens,
    standard_media_tokens,
)
from ciyuan.measure.multimodal.values import (
    RETRIEVED,
    FamilyCount,
    Formula,
    ImageInput,
    MediaInput,
    MediaTokens,
    Modality,
)

__all__ = [
    "FAMILY_KEY",
    "RETRIEVED",
    "STANDARD_AUDIO",
    "STANDARD_IMAGE",
    "STANDARD_VIDEO",
    "FamilyCount",
    "Formula",
    "FormulaFamily",
    "FormulaRegistry",
    "ImageInput",
    "MediaInput",
    "MediaTokens",
    "builtin_registry",
    "family_for",
    "formulas",
    "image_tokens",
    "media_tokens",
    "standard_image_tokens",
    "standard_media_tokens",
]


def builtin_registry() -> FormulaRegistry:
    """A new registry holding the built-in families (register your own on top)."""
    return FormulaRegistry(
        (
            OpenAITileFamily(),
            OpenAIPatchFamily(),
            OpenAIAudioFamily(),
            AnthropicFamily(),
            GeminiFamily(),
            QwenVLFamily(),
            StandardFamily(),
        )
    )


@functools.cache
def _default_registry() -> FormulaRegistry:
    return builtin_registry()


@functools.cache
def _default_catalog() -> Catalog:
    return load_catalog()


def _model(model: str | ModelInfo, catalog: Catalog | None) -> ModelInfo:
    if isinstance(model, ModelInfo):
        return model
    return (catalog or _default_catalog()).get(model)


def _result(
    info: ModelInfo,
    family: FormulaFamily,
    modality: Modality,
    count: FamilyCount | None,
    fallback: FamilyCount,
    standard_tokens: int,
) -> MediaTokens:
    notes: tuple[str, ...] = ()
    family_name = family.name
    if count is None:
        notes = (f"family {family.name!r} publishes no {modality} rule; standard conversion "
                 "used as the estimate",)
        count, family_name = fallback, "standard"
    notes = count.notes + notes
    if modality not in info.modalities_in:
        notes += (f"the catalog lists no {modality} input for {info.id}",)
    return MediaTokens(
        model=info.id,
        family=family_name,
        modality=modality,
        formula_id=count.formula.id,
        native_tokens=count.tokens,
        standard_tokens=standard_tokens,
        standard_formula_id=standard_formula(modality).id,
        method="estimated",
        notes=notes,
    )


def image_tokens(
    image: ImageInput,
    model: str | ModelInfo,
    catalog: Catalog | None = None,
    *,
    registry: FormulaRegistry | None = None,
    formula_id: str | None = None,
) -> MediaTokens:
    """Native tokens of ``image`` for ``model`` by its provider's formula, and standard tokens.

    ``formula_id`` picks another formula of the same family (e.g. the other side of a
    recorded conflict). Unknown models raise ``UnknownModelError`` with suggestions.
    """
    info = _model(model, catalog)
    family = (registry or _default_registry()).family_of(info)
    count = family.image(image, info.id, formula_id)
    standard = StandardFamily().image(image, info.id)
    return _result(info, family, "image", count, standard, standard.tokens)


def media_tokens(
    media: MediaInput,
    model: str | ModelInfo,
    catalog: Catalog | None = None,
    *,
    registry: FormulaRegistry | None = None,
    formula_id: str | None = None,
) -> MediaTokens:
    """Native and standard tokens of an audio or video part for ``model``."""
    info = _model(model, catalog)
    family = (registry or _default_registry()).family_of(info)
    count = family.media(media, info.id, formula_id)
    standard = StandardFamily().media(media, info.id)
    return _result(info, family, media.kind, count, standard, standard.tokens)


def formulas(registry: FormulaRegistry | None = None) -> list[Formula]:
    """Every formula the registry can apply, the standard conversion included."""
    return (registry or _default_registry()).formulas()
