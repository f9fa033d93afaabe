"""Qwen-VL's image rule: one token per 28×28 px after ``smart_resize``, plus 2 marker tokens.

``smart_resize`` (qwen-vl-utils, Qwen2.5-VL) rounds each side to a multiple of 28 and keeps
the pixel count between ``min_pixels`` and ``max_pixels`` by rescaling; each 28×28 block is
one token after the 2×2 merge of 14-px patches, and ``<|vision_start|>``/``<|vision_end|>``
add 2. The arithmetic below follows the published code operation for operation (floats and
Python's ``round`` included), so counts match the reference implementation exactly.
Qwen-VL video rules are not pinned here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ciyuan.core.errors import InvalidImageError
from ciyuan.measure.multimodal.registry import pick_formula
from ciyuan.measure.multimodal.values import (
    RETRIEVED,
    FamilyCount,
    Formula,
    ImageInput,
    MediaInput,
)

__all__ = ["QWEN25_VL_IMAGE", "QWEN_VL_IMAGE_1280", "QwenVLFamily", "smart_resize"]

QWEN_URL = "https://github.com/QwenLM/Qwen2.5-VL"
HF_URL = (
    "https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/"
    "image_processing_qwen2_vl.py"
)
FACTOR = 28
MAX_RATIO = 200  # the reference code rejects more extreme aspect ratios
VISION_MARKER_TOKENS = 2


@dataclass(frozen=True)
class PixelRange:
    min_pixels: int
    max_pixels: int


QWEN25_DEFAULTS = PixelRange(4 * FACTOR * FACTOR, 16384 * FACTOR * FACTOR)
HF_CODE_DEFAULTS = PixelRange(56 * 56, 1280 * FACTOR * FACTOR)

_ROUNDING = (
    "as the reference code: Python round() (half to even) of side/28, then floor or ceil to a "
    "multiple of 28 when rescaling into the pixel range"
)
_CONFLICT = (
    "qwen-vl-utils (Qwen2.5-VL) defaults to max_pixels = 16384·28·28 (16,384 tokens), while "
    "the code default of transformers' Qwen2-VL image processor is 1280·28·28 (1,280 tokens); "
    "a checkpoint's preprocessor_config.json and hosted APIs set their own limits."
)

QWEN25_VL_IMAGE = Formula(
    id="qwen2.5-vl-image@1",
    family="qwen-vl",
    modality="image",
    version="1",
    source_url=QWEN_URL,
    retrieved=RETRIEVED,
    description="Qwen2.5-VL (qwen-vl-utils defaults): smart_resize with factor 28, "
    "min_pixels 4·28·28, max_pixels 16384·28·28; tokens = (h/28)·(w/28) + 2.",
    rounding=_ROUNDING,
    conflicts=(f"{_CONFLICT} The other reading is qwen-vl-image-1280@1.",),
)
QWEN_VL_IMAGE_1280 = Formula(
    id="qwen-vl-image-1280@1",
    family="qwen-vl",
    modality="image",
    version="1",
    source_url=HF_URL,
    retrieved=RETRIEVED,
    description="Qwen2-VL image processor code defaults: smart_resize with factor 28, "
    "min_pixels 56·56, max_pixels 1280·28·28; tokens = (h/28)·(w/28) + 2 (sides under "
    "28 px are taken up to 28 as qwen-vl-utils does, where older transformers reject them).",
    rounding=_ROUNDING,
    conflicts=(f"{_CONFLICT} The other reading is qwen2.5-vl-image@1.",),
)
_RANGES = {QWEN25_VL_IMAGE.id: QWEN25_DEFAULTS, QWEN_VL_IMAGE_1280.id: HF_CODE_DEFAULTS}


def smart_resize(height: int, width: int, pixels: PixelRange = QWEN25_DEFAULTS) -> tuple[int, int]:
    """(height, width) after Qwen's resize: multiples of 28 with the area in range."""
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise InvalidImageError(
            f"image {width}×{height} px has an aspect ratio over {MAX_RATIO}:1, which Qwen-VL "
            "rejects: crop or pad it to a less extreme shape",
            width=width,
            height=height,
        )
    h_bar = max(FACTOR, round(height / FACTOR) * FACTOR)
    w_bar = max(FACTOR, round(width / FACTOR) * FACTOR)
    if h_bar * w_bar > pixels.max_pixels:
        beta = math.sqrt((height * width) / pixels.max_pixels)
        h_bar = max(FACTOR, math.floor(height / beta / FACTOR) * FACTOR)
        w_bar = max(FACTOR, math.floor(width / beta / FACTOR) * FACTOR)
    elif h_bar * w_bar < pixels.min_pixels:
        beta = math.sqrt(pixels.min_pixels / (height * width))
        h_bar = math.ceil(height * beta / FACTOR) * FACTOR
        w_bar = math.ceil(width * beta / FACTOR) * FACTOR
    return h_bar, w_bar


class QwenVLFamily:
    """Qwen vision-language models (Alibaba Cloud and open weights)."""

    name = "qwen-vl"

    def formulas(self) -> tuple[Formula, ...]:
        return (QWEN25_VL_IMAGE, QWEN_VL_IMAGE_1280)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        formula = pick_formula(self, "image", formula_id, QWEN25_VL_IMAGE)
        h_bar, w_bar = smart_resize(image.height, image.width, _RANGES[formula.id])
        tokens = (h_bar // FACTOR) * (w_bar // FACTOR) + VISION_MARKER_TOKENS
        notes: tuple[str, ...] = ()
        if image.detail != "auto":
            notes = ("the detail setting does not apply to Qwen-VL (see min/max_pixels)",)
        return FamilyCount(formula, tokens, notes)

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        return None
