"""Anthropic's published image rule: ``tokens = width × height / 750`` after a size cap.

The vision page says images whose long edge exceeds 1568 px, or that would exceed about
1,600 tokens, are first scaled down (aspect ratio kept). The same page also recommends
staying within about 1.15 megapixels. Those two caps disagree (1.15 MP is about 1,534
tokens, yet its own table counts 1092×1092 at about 1,590 without resizing), so both are
kept as separate formulas; the 1,600-token reading is the default because the page's worked
examples fit it. Claude takes no audio or video input.
"""

from __future__ import annotations

import math

from ciyuan.core.errors import InvalidImageError
from ciyuan.measure.multimodal.registry import pick_formula
from ciyuan.measure.multimodal.values import (
    RETRIEVED,
    FamilyCount,
    Formula,
    ImageInput,
    MediaInput,
)

__all__ = ["ANTHROPIC_1600_TOKENS", "ANTHROPIC_115_MP", "AnthropicFamily", "fit_image"]

VISION_URL = "https://docs.anthropic.com/en/docs/build-with-claude/vision"
PIXELS_PER_TOKEN = 750
LONG_EDGE_PX = 1568
MAX_SIDE_PX = 8000  # the API rejects larger images
TOKEN_CAP_PIXELS = 1600 * PIXELS_PER_TOKEN  # "about 1,600 tokens"
MEGAPIXEL_CAP_PIXELS = 1_150_000  # "about 1.15 megapixels"

_ROUNDING = (
    "ceil of width × height / 750 (the page's table: 200×200 ≈ 54, 1000×1000 ≈ 1334); "
    "resized sides rounded down, our choice"
)
_CONFLICT = (
    "Anthropic's vision page gives two size caps: scale down above ~1,600 tokens, and keep "
    "images within ~1.15 megapixels (≈1,534 tokens). Its own table counts 1092×1092 at "
    "≈1,590 tokens without resizing and lists 784×1568 (≈1,640) as not resized, so "
    "neither cap is exact."
)


def _formula(name: str, cap: str, other: str) -> Formula:
    return Formula(
        id=f"{name}@1",
        family="anthropic",
        modality="image",
        version="1",
        source_url=VISION_URL,
        retrieved=RETRIEVED,
        description=(
            f"Claude: scale down (aspect kept) until the long edge ≤ {LONG_EDGE_PX} px and "
            f"{cap}; tokens = width × height / {PIXELS_PER_TOKEN}."
        ),
        rounding=_ROUNDING,
        conflicts=(f"{_CONFLICT} The other reading is {other}.",),
    )


ANTHROPIC_1600_TOKENS = _formula(
    "anthropic-image-1600tok", "the image is at most 1,600 tokens (1,200,000 px)",
    "anthropic-image-1.15mp@1",
)
ANTHROPIC_115_MP = _formula(
    "anthropic-image-1.15mp", "the image is at most 1.15 megapixels",
    "anthropic-image-1600tok@1",
)
_AREA_CAPS = {ANTHROPIC_1600_TOKENS.id: TOKEN_CAP_PIXELS, ANTHROPIC_115_MP.id: MEGAPIXEL_CAP_PIXELS}


def fit_image(width: int, height: int, max_area: int) -> tuple[int, int]:
    """The size after Anthropic's downscale: long edge ≤ 1568 and area ≤ ``max_area``.

    Exact integer arithmetic: for the area cap, ``floor(w·sqrt(A/(w·h)))`` is
    ``isqrt(A·w // h)``.
    """
    long_edge = max(width, height)
    if long_edge <= LONG_EDGE_PX and width * height <= max_area:
        return width, height
    # Which cap binds: (1568 / long)² ≤ A / (w·h)  ⇔  1568²·w·h ≤ A·long².
    if LONG_EDGE_PX**2 * width * height <= max_area * long_edge**2:
        new_w = width * LONG_EDGE_PX // long_edge
        new_h = height * LONG_EDGE_PX // long_edge
    else:
        new_w = math.isqrt(max_area * width // height)
        new_h = math.isqrt(max_area * height // width)
    return max(1, new_w), max(1, new_h)


def _check_size(image: ImageInput) -> None:
    if max(image.width, image.height) > MAX_SIDE_PX:
        raise InvalidImageError(
            f"image {image.width}×{image.height} px is over Anthropic's {MAX_SIDE_PX} px "
            f"limit, and the API would reject it: downscale it (≤ {LONG_EDGE_PX} px on the "
            "long edge avoids server-side resizing)",
            width=image.width,
            height=image.height,
        )


class AnthropicFamily:
    """Claude models: pixels / 750 after the size cap."""

    name = "anthropic"

    def formulas(self) -> tuple[Formula, ...]:
        return (ANTHROPIC_1600_TOKENS, ANTHROPIC_115_MP)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        _check_size(image)
        formula = pick_formula(self, "image", formula_id, ANTHROPIC_1600_TOKENS)
        width, height = fit_image(image.width, image.height, _AREA_CAPS[formula.id])
        tokens = -(-width * height // PIXELS_PER_TOKEN)
        notes: tuple[str, ...] = ()
        if (width, height) != (image.width, image.height):
            notes = (f"counted as resized to {width}×{height} px",)
        return FamilyCount(formula, tokens, notes)

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        return None
