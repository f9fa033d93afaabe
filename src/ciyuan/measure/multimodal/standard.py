"""The standard conversion of non-text content: one pinned count per image, second of audio,
second of video, whatever model saw it (SPEC §5 invariant 5).

Our choice, documented in docs/concepts/multimodal.md:

- image: OpenAI's tile rule at high detail with GPT-4o's figures (85 + 170 per 512-px tile
  after the 2048 and 768 downscales), pinned here as ``standard-image@1``. The request's
  ``detail`` is a processing choice, not content, so the standard ignores it.
- audio: 32 tokens per second (Gemini's published audio rate), ``standard-audio@1``.
- video: 263 tokens per second (Gemini's published video rate at 1 fps) for the picture,
  whatever fps the model samples, ``standard-video@1``; a soundtrack is its own audio part.

The constants live here, not in the provider modules, so a vendor changing its figures
changes a provider formula, never the standard. A new standard would be ``@2``, never an
edit of ``@1``.
"""

from __future__ import annotations

import math

from ciyuan.measure.multimodal.openai import TileParams, tile_tokens
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
    "STANDARD_AUDIO",
    "STANDARD_IMAGE",
    "STANDARD_VIDEO",
    "StandardFamily",
    "standard_formula",
    "standard_image_tokens",
    "standard_media_tokens",
]

_IMAGE_PARAMS = TileParams(base=85, per_tile=170)
AUDIO_TOKENS_PER_SECOND = 32
VIDEO_TOKENS_PER_SECOND = 263
_CHOICE = "Our choice, pinned; same content gives the same count whatever the model. "

STANDARD_IMAGE = Formula(
    id="standard-image@1",
    family="standard",
    modality="image",
    version="1",
    source_url="https://platform.openai.com/docs/guides/images-vision",
    retrieved=RETRIEVED,
    description=_CHOICE + "85 + 170 × 512-px tiles after fitting in 2048×2048 and bringing the "
    "shortest side down to 768 px (OpenAI's GPT-4o rule at high detail); detail is ignored.",
    rounding="whole tiles (ceil of each side / 512); scaled sizes kept exact, unrounded",
)
STANDARD_AUDIO = Formula(
    id="standard-audio@1",
    family="standard",
    modality="audio",
    version="1",
    source_url="https://ai.google.dev/gemini-api/docs/tokens",
    retrieved=RETRIEVED,
    description=_CHOICE + "32 tokens per second of audio (Gemini's published rate), either "
    "direction.",
    rounding="ceil of 32 × seconds",
)
STANDARD_VIDEO = Formula(
    id="standard-video@1",
    family="standard",
    modality="video",
    version="1",
    source_url="https://ai.google.dev/gemini-api/docs/tokens",
    retrieved=RETRIEVED,
    description=_CHOICE + "263 tokens per second of video picture (Gemini's published rate at "
    "1 fps), whatever fps the model samples; a soundtrack counts as a separate audio part.",
    rounding="ceil of 263 × seconds",
)


def standard_image_tokens(image: ImageInput) -> int:
    """Standard tokens of an image: a function of its pixel size only."""
    return tile_tokens(image.width, image.height, "high", _IMAGE_PARAMS)


def standard_media_tokens(media: MediaInput) -> int:
    """Standard tokens of an audio or video part: a function of kind and duration only."""
    rate = AUDIO_TOKENS_PER_SECOND if media.kind == "audio" else VIDEO_TOKENS_PER_SECOND
    return math.ceil(rate * media.exact_seconds)


def standard_formula(modality: Modality) -> Formula:
    """The pinned standard formula for ``modality``."""
    return {"image": STANDARD_IMAGE, "audio": STANDARD_AUDIO, "video": STANDARD_VIDEO}[modality]


class StandardFamily:
    """For models with no published provider rule: native tokens are the standard ones."""

    name = "standard"

    def formulas(self) -> tuple[Formula, ...]:
        return (STANDARD_IMAGE, STANDARD_AUDIO, STANDARD_VIDEO)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        formula = pick_formula(self, "image", formula_id, STANDARD_IMAGE)
        return FamilyCount(formula, standard_image_tokens(image))

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        formula = pick_formula(self, media.kind, formula_id, standard_formula(media.kind))
        return FamilyCount(formula, standard_media_tokens(media))
