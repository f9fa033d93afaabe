"""Google Gemini's published rules: 258-token images and tiles, 263 tokens/s video, 32/s audio.

Gemini 2.x: an image with both sides ≤ 384 px is 258 tokens; a larger one is "cropped and
scaled as needed into tiles of 768×768 pixels, each counted as 258 tokens". Google does not
publish the crop/scale algorithm, so the tile count here is our reading: a 768-px grid
over the image (``ceil(w/768) × ceil(h/768)``). Gemini 1.5 counted every image as a flat 258
tokens; that rule is kept as its own formula. Gemini 3 ``media_resolution`` rules are not
pinned here.
"""

from __future__ import annotations

import math

from ciyuan.measure.multimodal.registry import pick_formula
from ciyuan.measure.multimodal.values import (
    RETRIEVED,
    FamilyCount,
    Formula,
    ImageInput,
    MediaInput,
    Modality,
)

__all__ = [
    "GEMINI_15_IMAGE",
    "GEMINI_2_IMAGE",
    "GEMINI_AUDIO",
    "GEMINI_VIDEO",
    "GeminiFamily",
    "gemini_2_image_tokens",
]

TOKENS_URL = "https://ai.google.dev/gemini-api/docs/tokens"
TOKENS_PER_IMAGE = 258  # also per 768-px tile
SMALL_IMAGE_PX = 384
TILE_PX = 768
VIDEO_TOKENS_PER_SECOND = 263  # at the default sampling of 1 frame per second
AUDIO_TOKENS_PER_SECOND = 32

_IMAGE_CONFLICT = (
    "Gemini 1.5 documentation: every image is a fixed 258 tokens whatever its size; Gemini "
    "2.x documentation: 258 only when both sides ≤ 384 px, else 258 per 768×768 tile. "
    "Both kept: gemini-1.5-image@1 and gemini-2-image@1."
)
_SECONDS_ROUNDING = "ceil of rate × seconds (our choice: the vendor names no rounding)"


def _formula(name: str, modality: Modality, description: str, rounding: str,
             conflicts: tuple[str, ...] = ()) -> Formula:
    return Formula(
        id=f"{name}@1",
        family="gemini",
        modality=modality,
        version="1",
        source_url=TOKENS_URL,
        retrieved=RETRIEVED,
        description=description,
        rounding=rounding,
        conflicts=conflicts,
    )


GEMINI_2_IMAGE = _formula(
    "gemini-2-image", "image",
    "Gemini 2.x: both sides ≤ 384 px → 258 tokens; otherwise 258 per 768×768 tile, tiles "
    "counted as ceil(width/768) × ceil(height/768) (our reading: the crop/scale algorithm "
    "is not published).",
    "whole tiles (ceil of each side / 768)",
    (_IMAGE_CONFLICT, "Third-party calculators tile differently (e.g. by a crop unit of "
     "min(w, h)/1.5); none is published by Google. Reported usageMetadata wins."),
)
GEMINI_15_IMAGE = _formula(
    "gemini-1.5-image", "image",
    "Gemini 1.5: every image is 258 tokens, whatever its size.",
    "none needed (a constant)",
    (_IMAGE_CONFLICT,),
)
GEMINI_VIDEO = _formula(
    "gemini-video", "video",
    "Video: 263 tokens per second at the default sampling of 1 frame per second. For another "
    "fps we scale the rate linearly (our extrapolation, not published).",
    _SECONDS_ROUNDING,
    ("Reported but not pinned here: a later revision of the same page gives ~100 tokens/s at "
     "the default (low) media resolution and ~300 tokens/s at high, sampled at 1 fps.",),
)
GEMINI_AUDIO = _formula(
    "gemini-audio", "audio", "Audio: 32 tokens per second.", _SECONDS_ROUNDING
)


def gemini_2_image_tokens(width: int, height: int) -> int:
    if width <= SMALL_IMAGE_PX and height <= SMALL_IMAGE_PX:
        return TOKENS_PER_IMAGE
    return TOKENS_PER_IMAGE * math.ceil(width / TILE_PX) * math.ceil(height / TILE_PX)


def _default_image_formula(model_id: str) -> tuple[Formula, tuple[str, ...]]:
    if model_id.startswith("gemini-1.5"):
        return GEMINI_15_IMAGE, ()
    if model_id.startswith("gemini-2"):
        return GEMINI_2_IMAGE, ()
    return GEMINI_2_IMAGE, (f"no image rule pinned for {model_id}; the Gemini 2.x rule used",)


class GeminiFamily:
    """Gemini models: images, video and audio by the published constants."""

    name = "gemini"

    def formulas(self) -> tuple[Formula, ...]:
        return (GEMINI_2_IMAGE, GEMINI_15_IMAGE, GEMINI_VIDEO, GEMINI_AUDIO)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        default, notes = _default_image_formula(model_id.lower())
        formula = pick_formula(self, "image", formula_id, default)
        if image.detail != "auto":
            notes += ("the detail setting does not apply to Gemini (see media_resolution)",)
        if formula is GEMINI_15_IMAGE:
            return FamilyCount(formula, TOKENS_PER_IMAGE, notes)
        return FamilyCount(formula, gemini_2_image_tokens(image.width, image.height), notes)

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        if media.kind == "audio":
            formula = pick_formula(self, "audio", formula_id, GEMINI_AUDIO)
            return FamilyCount(formula, math.ceil(AUDIO_TOKENS_PER_SECOND * media.exact_seconds))
        formula = pick_formula(self, "video", formula_id, GEMINI_VIDEO)
        fps = media.exact_fps
        notes: tuple[str, ...] = ()
        rate = VIDEO_TOKENS_PER_SECOND * (1 if fps is None else fps)
        if fps is not None and fps != 1:
            notes = (f"263 tokens/s is published for 1 fps; scaled linearly to {media.fps} fps",)
        return FamilyCount(formula, math.ceil(rate * media.exact_seconds), notes)
