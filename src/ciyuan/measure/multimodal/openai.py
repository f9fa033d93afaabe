"""OpenAI's published image rules (512 px tiles; 32 px patches) and its audio token rates.

Tiles (GPT-4o, GPT-4.1, gpt-4-turbo, o1/o3): fit in 2048×2048, then shortest side to 768,
then ``base + per_tile × 512-px tiles``; ``detail="low"`` costs ``base``. Patches
(gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano): 32 px patches, at most 1536 after shrinking,
times a per-model multiplier. All arithmetic is exact (fractions, integer square roots), so
boundary sizes such as the vendor's 1800×2400 example land where the vendor's numbers do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ciyuan.measure.multimodal.registry import pick_formula
from ciyuan.measure.multimodal.values import (
    RETRIEVED,
    Detail,
    FamilyCount,
    Formula,
    ImageInput,
    MediaInput,
)

__all__ = [
    "OpenAIAudioFamily",
    "OpenAIPatchFamily",
    "OpenAITileFamily",
    "TileParams",
    "patch_count",
    "tile_count",
    "tile_tokens",
]

IMAGES_URL = "https://platform.openai.com/docs/guides/images-vision"
AUDIO_URL = "https://platform.openai.com/docs/guides/realtime-costs"

FIT_PX = 2048  # the image is first fitted in a 2048×2048 square
SHORT_SIDE_PX = 768  # then its shortest side is brought down to 768 px
TILE_PX = 512
PATCH_PX = 32
PATCH_BUDGET = 1536  # most patches an image may cover; larger images are shrunk


@dataclass(frozen=True)
class TileParams:
    base: int
    per_tile: int


def tile_count(width: int, height: int) -> int:
    """512-px tiles after the fit-in-2048 and shortest-side-768 downscales (never upscaled)."""
    w, h = Fraction(width), Fraction(height)
    longest = max(w, h)
    if longest > FIT_PX:
        w, h = w * FIT_PX / longest, h * FIT_PX / longest
    shortest = min(w, h)
    if shortest > SHORT_SIDE_PX:
        w, h = w * SHORT_SIDE_PX / shortest, h * SHORT_SIDE_PX / shortest
    return math.ceil(w / TILE_PX) * math.ceil(h / TILE_PX)


def tile_tokens(width: int, height: int, detail: Detail, params: TileParams) -> int:
    """``base`` for low detail, else ``base + per_tile × tiles``."""
    if detail == "low":
        return params.base
    return params.base + params.per_tile * tile_count(width, height)


def patch_count(width: int, height: int) -> int:
    """32-px patches covering the image, shrunk to fit the 1536-patch budget as published.

    The vendor's shrink factor ``r = sqrt(32²·1536/(w·h))``, trimmed so one side is a whole
    number of patches, equals ``min(32·kw/w, 32·kh/h)`` with ``kw = floor(sqrt(1536·w/h))``:
    computed with integer square roots, it has no float error at the patch boundaries.
    """
    raw = math.ceil(width / PATCH_PX) * math.ceil(height / PATCH_PX)
    if raw <= PATCH_BUDGET:
        return raw
    kw = math.isqrt(PATCH_BUDGET * width // height)
    kh = math.isqrt(PATCH_BUDGET * height // width)
    r = min(Fraction(PATCH_PX * kw, width), Fraction(PATCH_PX * kh, height))
    # Strips thinner than 1:1536 would shrink to nothing; count at least one patch a side.
    cols = max(1, math.ceil(width * r / PATCH_PX))
    rows = max(1, math.ceil(height * r / PATCH_PX))
    return min(cols * rows, PATCH_BUDGET)


def _tile_formula(
    name: str, params: TileParams, models: str, conflicts: tuple[str, ...]
) -> Formula:
    return Formula(
        id=f"{name}@1",
        family="openai-tile",
        modality="image",
        version="1",
        source_url=IMAGES_URL,
        retrieved=RETRIEVED,
        description=(
            f"{models}: fit in {FIT_PX}×{FIT_PX}, shortest side to {SHORT_SIDE_PX} px "
            f"(downscale only), tokens = {params.base} + {params.per_tile} × {TILE_PX}-px "
            f"tiles; detail=low → {params.base}."
        ),
        rounding="whole tiles (ceil of each side / 512); scaled sizes kept exact, unrounded",
        conflicts=conflicts,
    )


_GPT4O = TileParams(85, 170)
_GPT4O_MINI = TileParams(2833, 5667)
_O_SERIES = TileParams(75, 150)

TILE_85_170 = _tile_formula(
    "openai-tile-85-170", _GPT4O, "gpt-4o, gpt-4.1, gpt-4.5, gpt-4-turbo",
    ("Some third-party calculators list gpt-4.1 under the patch rule; the vendor page lists "
     "it under tiles, and usage reported for gpt-4.1 (1024×1024 and 1800×2400 both 765 plus "
     "message overhead) fits tiles: https://community.openai.com/t/gpt-4-1-vision-price-"
     "calculations-incorrect-billing-on-full-model/1230130",),
)
TILE_2833_5667 = _tile_formula(
    "openai-tile-2833-5667", _GPT4O_MINI, "gpt-4o-mini (same $ per image as gpt-4o)", ()
)
TILE_75_150 = _tile_formula(
    "openai-tile-75-150", _O_SERIES, "o1, o1-pro, o3",
    ("A community measurement reported o1-2024-12-17 billing a 128×64 image far below "
     "75/150 (o3 matched): https://community.openai.com/t/vision-more-than-one-way-to-send-"
     "a-request-undocumented-and-different-pricing-realized/1262691",),
)

#: Model id prefix → (tile parameters, formula); first match wins, so minis come first.
#: None marks models with no image input (o1-mini, o3-mini).
_TILE_MODELS: tuple[tuple[str, tuple[TileParams, Formula] | None], ...] = (
    ("gpt-4o-mini", (_GPT4O_MINI, TILE_2833_5667)),
    ("o1-mini", None),
    ("o3-mini", None),
    ("o1", (_O_SERIES, TILE_75_150)),
    ("o3", (_O_SERIES, TILE_75_150)),
    ("gpt-4o", (_GPT4O, TILE_85_170)),
    ("gpt-4.1", (_GPT4O, TILE_85_170)),
    ("gpt-4.5", (_GPT4O, TILE_85_170)),
    ("gpt-4-turbo", (_GPT4O, TILE_85_170)),
)
_PARAMS_BY_FORMULA = {TILE_85_170.id: _GPT4O, TILE_2833_5667.id: _GPT4O_MINI,
                      TILE_75_150.id: _O_SERIES}


def _matches(model_id: str, prefix: str) -> bool:
    return model_id == prefix or model_id.startswith(prefix + "-")


def _tile_choice(model_id: str) -> tuple[Formula, tuple[str, ...]]:
    for prefix, choice in _TILE_MODELS:
        if _matches(model_id, prefix):
            if choice is None:
                return TILE_85_170, (f"{model_id} takes no image input; gpt-4o's tile "
                                     "figures used",)
            return choice[1], ()
    return TILE_85_170, (f"no OpenAI tile figures pinned for {model_id}; gpt-4o's 85/170 "
                         "used (check the vendor page for this model)",)


class OpenAITileFamily:
    """GPT-4o-style 512-px tile counting."""

    name = "openai-tile"

    def formulas(self) -> tuple[Formula, ...]:
        return (TILE_85_170, TILE_2833_5667, TILE_75_150)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        default, notes = _tile_choice(model_id.lower())
        formula = pick_formula(self, "image", formula_id, default)
        detail = image.detail
        if detail == "auto":
            notes += ("detail=auto counted as high: the provider picks, high is the upper bound",)
            detail = "high"
        tokens = tile_tokens(image.width, image.height, detail, _PARAMS_BY_FORMULA[formula.id])
        return FamilyCount(formula, tokens, notes)

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        return None


def _patch_formula(multiplier: str, models: str, conflicts: tuple[str, ...] = ()) -> Formula:
    return Formula(
        id=f"openai-patch-x{multiplier}@1",
        family="openai-patch",
        modality="image",
        version="1",
        source_url=IMAGES_URL,
        retrieved=RETRIEVED,
        description=(
            f"{models}: {PATCH_PX}×{PATCH_PX}-px patches covering the image, shrunk to at most "
            f"{PATCH_BUDGET} patches, tokens = patches × {multiplier}. The detail setting "
            "does not apply."
        ),
        rounding="ceil of patches × multiplier (the vendor's worked numbers agree with ceil; "
        "its text names no rounding); the shrink is computed exactly, where a float reading "
        "of the published steps can overshoot by a row or column (2187×5875: 1426, not 1488)",
        conflicts=conflicts,
    )


_GPT5_SMALL_CONFLICT = (
    "The vendor page lists gpt-5-mini at 1.62 and gpt-5-nano at 2.46; the pricing page's "
    "calculator was reported to use 1.2 and 1.5 (https://community.openai.com/t/gpt-5-mini-"
    "image-input-token-calculation-discrepancy-with-official-faq-formula/1344040). This "
    "formula keeps the documented value.",
)
PATCH_162 = _patch_formula("1.62", "gpt-4.1-mini, gpt-5-mini", _GPT5_SMALL_CONFLICT)
PATCH_246 = _patch_formula("2.46", "gpt-4.1-nano, gpt-5-nano", _GPT5_SMALL_CONFLICT)
PATCH_172 = _patch_formula("1.72", "o4-mini")

_PATCH_MODELS: tuple[tuple[str, Formula], ...] = (
    ("gpt-4.1-mini", PATCH_162),
    ("gpt-4.1-nano", PATCH_246),
    ("o4-mini", PATCH_172),
    ("gpt-5-mini", PATCH_162),
    ("gpt-5-nano", PATCH_246),
)
_MULTIPLIERS = {PATCH_162.id: Fraction("1.62"), PATCH_246.id: Fraction("2.46"),
                PATCH_172.id: Fraction("1.72")}


def patch_tokens(width: int, height: int, formula: Formula) -> int:
    return math.ceil(patch_count(width, height) * _MULTIPLIERS[formula.id])


class OpenAIPatchFamily:
    """gpt-4.1-mini-style 32-px patch counting with a per-model multiplier."""

    name = "openai-patch"

    def formulas(self) -> tuple[Formula, ...]:
        return (PATCH_162, PATCH_246, PATCH_172)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount:
        lowered = model_id.lower()
        matched = [f for prefix, f in _PATCH_MODELS if _matches(lowered, prefix)]
        notes: tuple[str, ...] = ()
        if not matched:
            notes = (f"no patch multiplier pinned for {model_id}; gpt-4.1-mini's 1.62 used",)
        formula = pick_formula(self, "image", formula_id, matched[0] if matched else PATCH_162)
        return FamilyCount(formula, patch_tokens(image.width, image.height, formula), notes)

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        return None


def _audio_formula(direction: str, rate: int, per: str) -> Formula:
    return Formula(
        id=f"openai-audio-{direction}@1",
        family="openai-audio",
        modality="audio",
        version="1",
        source_url=AUDIO_URL,
        retrieved=RETRIEVED,
        description=f"gpt-4o realtime/audio models, {direction} audio: 1 token per {per} "
        f"({rate} tokens per second).",
        rounding="ceil of rate × seconds (our choice: the vendor names no rounding)",
    )


AUDIO_INPUT = _audio_formula("input", 10, "100 ms")
AUDIO_OUTPUT = _audio_formula("output", 20, "50 ms")
_AUDIO_RATES = {AUDIO_INPUT.id: 10, AUDIO_OUTPUT.id: 20}


class OpenAIAudioFamily:
    """gpt-4o audio and realtime models: per-second audio rates by direction."""

    name = "openai-audio"

    def formulas(self) -> tuple[Formula, ...]:
        return (AUDIO_INPUT, AUDIO_OUTPUT)

    def image(
        self, image: ImageInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        return None

    def media(
        self, media: MediaInput, model_id: str, formula_id: str | None = None
    ) -> FamilyCount | None:
        if media.kind != "audio":
            return None
        default = AUDIO_OUTPUT if media.direction == "output" else AUDIO_INPUT
        formula = pick_formula(self, "audio", formula_id, default)
        return FamilyCount(formula, math.ceil(_AUDIO_RATES[formula.id] * media.exact_seconds))
