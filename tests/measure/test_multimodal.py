"""Multimodal token formulas: vendor worked examples, standard-token invariants, errors, docs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ciyuan.catalog.models import ModelInfo, load_catalog
from ciyuan.core.errors import (
    ConfigError,
    InvalidImageError,
    InvalidMediaError,
    UnknownModelError,
)
from ciyuan.measure.multimodal import (
    FamilyCount,
    Formula,
    FormulaFamily,
    ImageInput,
    MediaInput,
    builtin_registry,
    family_for,
    formulas,
    image_tokens,
    media_tokens,
    standard_image_tokens,
    standard_media_tokens,
)
from ciyuan.measure.multimodal.anthropic import fit_image
from ciyuan.measure.multimodal.openai import patch_count, tile_count
from ciyuan.measure.multimodal.qwen import HF_CODE_DEFAULTS, smart_resize
from ciyuan.measure.multimodal.standard import STANDARD_IMAGE

DOC = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "multimodal.md"
CATALOG = load_catalog()
MODEL_IDS = sorted(m.id for m in CATALOG)
REGISTRY = builtin_registry()
IMAGE_FORMULAS = [f for f in formulas() if f.modality == "image"]
MEDIA_FORMULAS = [f for f in formulas() if f.modality != "image"]
AUDIO_MODEL = ModelInfo(id="gpt-4o-audio-preview", provider="openai", tokenizer="o200k_base",
                        modalities_in=("text", "audio"))
GEMINI_15 = ModelInfo(id="gemini-1.5-pro", provider="google", tokenizer="gemini",
                      modalities_in=("text", "image", "audio", "video"))


# ------------------------------------------------------------------ acceptance vectors

@pytest.mark.parametrize(
    ("model", "width", "height", "detail", "tokens", "formula_id"),
    [
        # OpenAI tiles: the vendor's worked examples.
        ("gpt-4o", 1024, 1024, "high", 765, "openai-tile-85-170@1"),
        ("gpt-4o", 2048, 4096, "high", 1105, "openai-tile-85-170@1"),
        ("gpt-4o", 4096, 8192, "low", 85, "openai-tile-85-170@1"),
        ("gpt-4.1", 1024, 1024, "high", 765, "openai-tile-85-170@1"),
        ("gpt-4-turbo", 1024, 1024, "high", 765, "openai-tile-85-170@1"),
        ("gpt-4o", 1920, 1080, "high", 1105, "openai-tile-85-170@1"),
        ("gpt-4o", 512, 512, "high", 255, "openai-tile-85-170@1"),
        ("gpt-4o-mini", 1024, 1024, "high", 2833 + 4 * 5667, "openai-tile-2833-5667@1"),
        ("gpt-4o-mini", 1024, 1024, "low", 2833, "openai-tile-2833-5667@1"),
        ("o3", 1024, 1024, "high", 75 + 4 * 150, "openai-tile-75-150@1"),
        # OpenAI patches: 1024 patches × 1.62 = 1658.88 → 1659; 1452 patches × 1.62 → 2353.
        ("gpt-4.1-mini", 1024, 1024, "high", 1659, "openai-patch-x1.62@1"),
        ("gpt-4.1-mini", 1800, 2400, "high", 2353, "openai-patch-x1.62@1"),
        ("gpt-4.1-mini", 1024, 1024, "low", 1659, "openai-patch-x1.62@1"),
        ("gpt-4.1-nano", 1024, 1024, "high", 2520, "openai-patch-x2.46@1"),
        ("o4-mini", 1024, 1024, "high", 1762, "openai-patch-x1.72@1"),
        # Anthropic's table (ceil of w·h/750): 54, 1334, 1590.
        ("claude-sonnet-4", 200, 200, "auto", 54, "anthropic-image-1600tok@1"),
        ("claude-sonnet-4", 1000, 1000, "auto", 1334, "anthropic-image-1600tok@1"),
        ("claude-opus-4-1", 1092, 1092, "auto", 1590, "anthropic-image-1600tok@1"),
        # Gemini 2.x: ≤ 384 px both sides → 258; larger → 258 per 768-px tile.
        ("gemini-2.5-flash", 384, 384, "auto", 258, "gemini-2-image@1"),
        ("gemini-2.0-flash", 1, 1, "auto", 258, "gemini-2-image@1"),
        ("gemini-2.5-pro", 1024, 1024, "auto", 4 * 258, "gemini-2-image@1"),
        # Qwen2.5-VL: 1080 → 39·28, 1920 → 69·28; 39·69 + 2 markers.
        ("qwen-max", 1920, 1080, "auto", 2693, "qwen2.5-vl-image@1"),
        ("qwen-max", 28, 28, "auto", 4 + 2, "qwen2.5-vl-image@1"),
    ],
)
def test_vendor_image_examples(
    model: str, width: int, height: int, detail: str, tokens: int, formula_id: str
) -> None:
    result = image_tokens(ImageInput(width, height, detail), model)  # type: ignore[arg-type]
    assert (result.native_tokens, result.formula_id) == (tokens, formula_id)
    assert result.method == "estimated"


def test_openai_patch_counts_match_the_vendor_examples() -> None:
    assert patch_count(1024, 1024) == 1024
    assert patch_count(1800, 2400) == 1452  # shrunk to 1056×1408 = 33 × 44 patches
    assert patch_count(2187, 5875) == 23 * 62  # floats would say 24 × 62


def test_openai_tiles_fit_2048_then_768() -> None:
    assert tile_count(2048, 4096) == 6  # → 1024×2048 → 768×1536
    assert tile_count(1024, 1024) == 4  # → 768×768
    assert tile_count(100, 100) == 1  # never upscaled


def test_anthropic_resizes_to_the_long_edge_and_the_token_cap() -> None:
    assert fit_image(1000, 1000, 1_200_000) == (1000, 1000)
    w, h = fit_image(1920, 1080, 1_200_000)
    assert w * h <= 1_200_000 and max(w, h) <= 1568
    assert fit_image(4000, 1000, 1_200_000) == (1568, 392)  # the long edge binds
    result = image_tokens(ImageInput(1920, 1080), "claude-sonnet-4")
    assert result.native_tokens <= 1600 and any("resized" in n for n in result.notes)


def test_conflicting_anthropic_readings_are_both_available() -> None:
    image = ImageInput(1092, 1092)
    default = image_tokens(image, "claude-sonnet-4")
    other = image_tokens(image, "claude-sonnet-4", formula_id="anthropic-image-1.15mp@1")
    assert (default.native_tokens, other.native_tokens) == (1590, 1533)
    assert default.standard_tokens == other.standard_tokens


def test_gemini_15_and_2x_image_rules_are_separate_formulas() -> None:
    big = ImageInput(3000, 3000)
    old = image_tokens(big, GEMINI_15)
    assert (old.formula_id, old.native_tokens) == ("gemini-1.5-image@1", 258)
    new = image_tokens(big, "gemini-2.5-pro")
    assert (new.formula_id, new.native_tokens) == ("gemini-2-image@1", 16 * 258)
    forced = image_tokens(big, "gemini-2.5-pro", formula_id="gemini-1.5-image@1")
    assert forced.native_tokens == 258


def test_qwen_smart_resize_follows_the_reference() -> None:
    assert smart_resize(1080, 1920) == (1092, 1932)
    assert smart_resize(10, 10) == (56, 56)  # raised to min_pixels = 4·28·28
    assert smart_resize(1080, 1920, HF_CODE_DEFAULTS) == (728, 1316)  # 26·47 = 1222
    capped = image_tokens(ImageInput(1920, 1080), "qwen-max", formula_id="qwen-vl-image-1280@1")
    assert capped.native_tokens == 1222 + 2


@pytest.mark.parametrize(
    ("model", "media", "tokens", "formula_id"),
    [
        ("gemini-2.5-flash", MediaInput(10, "video"), 2630, "gemini-video@1"),
        ("gemini-2.5-flash", MediaInput(30, "audio"), 960, "gemini-audio@1"),
        ("gemini-2.5-flash", MediaInput(0.5, "audio"), 16, "gemini-audio@1"),
        ("gemini-2.5-flash", MediaInput(10, "video", fps=2), 5260, "gemini-video@1"),
        (AUDIO_MODEL, MediaInput(60), 600, "openai-audio-input@1"),
        (AUDIO_MODEL, MediaInput(60, direction="output"), 1200, "openai-audio-output@1"),
        (AUDIO_MODEL, MediaInput(0.3), 3, "openai-audio-input@1"),  # exact: 0.3 s, not 0.30…04
        ("deepseek-chat", MediaInput(60, "video"), 15780, "standard-video@1"),
    ],
)
def test_media_examples(
    model: str | ModelInfo, media: MediaInput, tokens: int, formula_id: str
) -> None:
    result = media_tokens(media, model)
    assert (result.native_tokens, result.formula_id) == (tokens, formula_id)


def test_gemini_fps_other_than_one_is_flagged() -> None:
    result = media_tokens(MediaInput(10, "video", fps=Decimal("0.5")), "gemini-2.5-pro")
    assert result.native_tokens == 1315 and any("scaled" in n for n in result.notes)


def test_a_family_without_a_rule_falls_back_to_the_standard_and_says_so() -> None:
    result = media_tokens(MediaInput(60, "audio"), "claude-sonnet-4")
    assert result.family == "standard" and result.formula_id == "standard-audio@1"
    assert result.native_tokens == result.standard_tokens == 1920
    assert any("publishes no audio rule" in n for n in result.notes)
    assert any("no audio input" in n for n in result.notes)


def test_unpinned_openai_model_uses_gpt4o_figures_with_a_note() -> None:
    result = image_tokens(ImageInput(1024, 1024, "high"), "gpt-5")
    assert result.native_tokens == 765 and any("gpt-5" in n for n in result.notes)


# ------------------------------------------------------------------ standard conversion

def test_standard_vectors_are_pinned() -> None:
    assert standard_image_tokens(ImageInput(1024, 1024)) == 765
    assert standard_image_tokens(ImageInput(2048, 4096)) == 1105
    assert standard_image_tokens(ImageInput(768, 2048)) == 1445  # the largest possible
    assert standard_media_tokens(MediaInput(60, "audio")) == 1920
    assert standard_media_tokens(MediaInput(60, "video", fps=30)) == 15780
    assert standard_media_tokens(MediaInput(Fraction(1, 3), "audio")) == 11


def test_standard_image_ignores_detail() -> None:
    counts = {standard_image_tokens(ImageInput(1500, 900, d)) for d in ("auto", "low", "high")}
    assert counts == {standard_image_tokens(ImageInput(1500, 900))}


sides = st.integers(min_value=1, max_value=8000)


@given(width=sides, height=sides, detail=st.sampled_from(["auto", "low", "high"]),
       models=st.lists(st.sampled_from(MODEL_IDS), min_size=2, max_size=4))
def test_same_image_same_standard_tokens_whatever_the_model(
    width: int, height: int, detail: str, models: list[str]
) -> None:
    assume(max(width, height) / min(width, height) <= 200)  # Qwen-VL rejects beyond
    image = ImageInput(width, height, detail)  # type: ignore[arg-type]
    results = [image_tokens(image, m) for m in models]
    assert {r.standard_tokens for r in results} == {standard_image_tokens(image)}
    assert {r.standard_formula_id for r in results} == {"standard-image@1"}


@given(seconds=st.decimals(min_value=0, max_value=86_400, places=3),
       kind=st.sampled_from(["audio", "video"]),
       models=st.lists(st.sampled_from(MODEL_IDS), min_size=2, max_size=4))
def test_same_media_same_standard_tokens_whatever_the_model(
    seconds: Decimal, kind: str, models: list[str]
) -> None:
    media = MediaInput(seconds, kind)  # type: ignore[arg-type]
    assert {media_tokens(media, m).standard_tokens for m in models} == {
        standard_media_tokens(media)
    }


# ------------------------------------------------------------------ properties of every formula

def _family_count(formula: Formula, image: ImageInput) -> FamilyCount | None:
    return REGISTRY.get(formula.family).image(image, "any-model", formula.id)


@given(formula=st.sampled_from(IMAGE_FORMULAS), width=sides, height=sides,
       detail=st.sampled_from(["auto", "low", "high"]))
def test_image_counts_are_non_negative_ints(
    formula: Formula, width: int, height: int, detail: str
) -> None:
    assume(max(width, height) / min(width, height) <= 200)  # Qwen-VL rejects beyond
    count = _family_count(formula, ImageInput(width, height, detail))  # type: ignore[arg-type]
    assert count is not None and count.formula == formula
    assert type(count.tokens) is int and count.tokens >= 0


def _monotone(formula: Formula, small: tuple[int, int], large: tuple[int, int]) -> None:
    a = _family_count(formula, ImageInput(*small, detail="high"))
    b = _family_count(formula, ImageInput(*large, detail="high"))
    assert a is not None and b is not None
    assert a.tokens <= b.tokens, (formula.id, small, large)


def _grow(limit_w: int, limit_h: int, low: int = 1) -> st.SearchStrategy[tuple[int, int, int, int]]:
    return st.tuples(st.integers(low, limit_w), st.integers(low, limit_w),
                     st.integers(low, limit_h), st.integers(low, limit_h))


def _pairs(dims: tuple[int, int, int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    w1, w2, h1, h2 = dims
    return (min(w1, w2), min(h1, h2)), (max(w1, w2), max(h1, h2))


TILE_FORMULAS = [f for f in IMAGE_FORMULAS if f.family in ("openai-tile", "standard")]


@given(dims=_grow(768, 2048), formula=st.sampled_from(TILE_FORMULAS))
def test_tiles_are_monotone_where_no_downscale_applies(
    dims: tuple[int, int, int, int], formula: Formula
) -> None:
    _monotone(formula, *_pairs(dims))


@given(dims=_grow(1600, 1600),
       formula=st.sampled_from([f for f in IMAGE_FORMULAS if f.family == "openai-patch"]))
def test_patches_are_monotone_within_the_budget(
    dims: tuple[int, int, int, int], formula: Formula
) -> None:
    small, large = _pairs(dims)
    assume(math.ceil(large[0] / 32) * math.ceil(large[1] / 32) <= 1536)
    _monotone(formula, small, large)


@given(dims=_grow(1568, 1568),
       formula=st.sampled_from([f for f in IMAGE_FORMULAS if f.family == "anthropic"]))
def test_anthropic_is_monotone_below_the_caps(
    dims: tuple[int, int, int, int], formula: Formula
) -> None:
    small, large = _pairs(dims)
    assume(large[0] * large[1] <= 1_150_000)
    _monotone(formula, small, large)


@given(dims=_grow(8000, 8000),
       formula=st.sampled_from([f for f in IMAGE_FORMULAS if f.family == "gemini"]))
def test_gemini_is_monotone_everywhere(dims: tuple[int, int, int, int], formula: Formula) -> None:
    _monotone(formula, *_pairs(dims))


@given(dims=_grow(980, 980, low=56),
       formula=st.sampled_from([f for f in IMAGE_FORMULAS if f.family == "qwen-vl"]))
def test_qwen_is_monotone_inside_the_pixel_range(
    dims: tuple[int, int, int, int], formula: Formula
) -> None:
    _monotone(formula, *_pairs(dims))


@given(width=sides, height=sides)
def test_caps_hold(width: int, height: int) -> None:
    assert patch_count(width, height) <= 1536
    w, h = fit_image(width, height, 1_200_000)
    assert w * h <= 1_200_000 and max(w, h) <= 1568 and w >= 1 and h >= 1
    assert tile_count(width, height) <= 8


def _media_count(formula: Formula, media: MediaInput) -> int:
    count = REGISTRY.get(formula.family).media(media, "any-model", formula.id)
    assert count is not None
    return count.tokens


@given(formula=st.sampled_from(MEDIA_FORMULAS),
       a=st.decimals(min_value=0, max_value=86_400, places=2),
       b=st.decimals(min_value=0, max_value=86_400, places=2))
def test_media_counts_are_monotone_non_negative_ints(
    formula: Formula, a: Decimal, b: Decimal
) -> None:
    kind = "video" if formula.modality == "video" else "audio"
    short = MediaInput(min(a, b), kind)  # type: ignore[arg-type]
    long = MediaInput(max(a, b), kind)  # type: ignore[arg-type]
    first, second = _media_count(formula, short), _media_count(formula, long)
    assert type(first) is int and 0 <= first <= second


# ------------------------------------------------------------------ formula records and registry

def test_every_formula_has_provenance() -> None:
    every = formulas()
    assert len({f.id for f in every}) == len(every)
    for formula in every:
        assert formula.source_url.startswith("https://")
        assert formula.retrieved == dt.date(2026, 11, 22)
        assert formula.id.endswith("@" + formula.version)
        assert formula.description and formula.rounding


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("anthropic-image-1600tok@1", "anthropic-image-1.15mp@1"),
        ("gemini-2-image@1", "gemini-1.5-image@1"),
        ("qwen2.5-vl-image@1", "qwen-vl-image-1280@1"),
    ],
)
def test_conflicting_formulas_name_each_other(one: str, other: str) -> None:
    by_id = {f.id: f for f in formulas()}
    assert any(other in note for note in by_id[one].conflicts)
    assert any(one in note for note in by_id[other].conflicts)


def test_builtins_register_like_any_family() -> None:
    assert REGISTRY.names() == ["openai-tile", "openai-patch", "openai-audio", "anthropic",
                                "gemini", "qwen-vl", "standard"]
    for name in REGISTRY.names():
        assert isinstance(REGISTRY.get(name), FormulaFamily)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o", "openai-tile"), ("gpt-4o-mini", "openai-tile"), ("gpt-4.1", "openai-tile"),
        ("gpt-4.1-mini", "openai-patch"), ("gpt-4.1-nano", "openai-patch"),
        ("o4-mini", "openai-patch"), ("claude-haiku-4-5", "anthropic"),
        ("gemini-2.5-flash", "gemini"), ("qwen-plus", "qwen-vl"), ("deepseek-chat", "standard"),
        ("doubao-seed-1.6", "standard"),
    ],
)
def test_family_for_catalog_models(model: str, family: str) -> None:
    assert family_for(CATALOG.get(model)) == family


def test_a_user_family_and_a_catalog_override() -> None:
    class Flat:
        name = "flat"

        def formulas(self) -> tuple[Formula, ...]:
            return (STANDARD_IMAGE,)

        def image(self, image: ImageInput, model_id: str,
                  formula_id: str | None = None) -> FamilyCount:
            return FamilyCount(STANDARD_IMAGE, 7)

        def media(self, media: MediaInput, model_id: str,
                  formula_id: str | None = None) -> FamilyCount | None:
            return None

    registry = builtin_registry()
    registry.register(Flat())
    catalog = load_catalog({"models": {"vl-x": {
        "provider": "deepseek", "tokenizer": "o200k_base", "multimodal_family": "flat"}}})
    result = image_tokens(ImageInput(10, 10), "vl-x", catalog, registry=registry)
    assert (result.family, result.native_tokens, result.standard_tokens) == ("flat", 7, 255)
    assert "flat" not in builtin_registry().names()  # a new registry each time


def test_unknown_family_override_is_a_config_error() -> None:
    model = ModelInfo(id="m", provider="x", tokenizer="o200k_base",
                      extra={"multimodal_family": "qwen-vll"})
    with pytest.raises(ConfigError, match="qwen-vl"):
        image_tokens(ImageInput(10, 10), model)


def test_unknown_model_suggests_names() -> None:
    with pytest.raises(UnknownModelError, match="gpt-4o"):
        image_tokens(ImageInput(10, 10), "gpt-4oo")


# ------------------------------------------------------------------ errors and immutability

@pytest.mark.parametrize("bad", [-3, 0, 1.5, True, "1024", None, 100_001])
def test_bad_image_sides_say_what_to_do(bad: object) -> None:
    with pytest.raises(InvalidImageError) as info:
        ImageInput(bad, 10)  # type: ignore[arg-type]
    assert info.value.code == "invalid-image"
    assert "width" in info.value.message and "pass" in info.value.message
    if bad == -3:
        assert "image width must be a positive integer number of pixels, got -3" in str(info.value)


def test_bad_detail_lists_the_choices() -> None:
    with pytest.raises(InvalidImageError, match="auto, low, high"):
        ImageInput(10, 10, "medium")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"seconds": -1}, "seconds"),
        ({"seconds": float("nan")}, "seconds"),
        ({"seconds": float("inf")}, "seconds"),
        ({"seconds": Decimal("NaN")}, "seconds"),
        ({"seconds": "10"}, "seconds"),
        ({"seconds": True}, "seconds"),
        ({"seconds": 86_401}, "seconds"),
        ({"seconds": 10, "kind": "image"}, "kind"),
        ({"seconds": 10, "direction": "both"}, "direction"),
        ({"seconds": 10, "kind": "audio", "fps": 1}, "fps"),
        ({"seconds": 10, "kind": "video", "fps": 0}, "fps"),
        ({"seconds": 10, "kind": "video", "fps": 5000}, "fps"),
    ],
)
def test_bad_media_says_what_to_do(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidMediaError) as info:
        MediaInput(**kwargs)  # type: ignore[arg-type]
    assert info.value.code == "invalid-media" and info.value.details["field"] == field
    assert ":" in info.value.message  # the part after the colon says what to do


def test_vendor_limits_are_errors() -> None:
    with pytest.raises(InvalidImageError, match="8000"):
        image_tokens(ImageInput(9000, 100), "claude-sonnet-4")
    with pytest.raises(InvalidImageError, match="aspect ratio"):
        image_tokens(ImageInput(10_000, 20), "qwen-max")


def test_a_formula_of_another_family_is_refused() -> None:
    with pytest.raises(InvalidImageError, match="choose one of"):
        image_tokens(ImageInput(10, 10), "gpt-4o", formula_id="gemini-2-image@1")
    with pytest.raises(InvalidMediaError, match="gemini-audio@1"):
        media_tokens(MediaInput(1), "gemini-2.5-pro", formula_id="gemini-video@1")


def test_values_are_frozen() -> None:
    result = image_tokens(ImageInput(10, 10), "gpt-4o")
    for value in (ImageInput(10, 10), MediaInput(1), result, formulas()[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.version = "2"  # type: ignore[union-attr,misc]


# ------------------------------------------------------------------ the doc

def test_doc_examples_run() -> None:
    outcome = doctest.testfile(str(DOC), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 10 and outcome.failed == 0


def test_doc_lists_every_formula() -> None:
    text = DOC.read_text("utf-8")
    missing = [f.id for f in formulas() if f"`{f.id}`" not in text]
    assert not missing
