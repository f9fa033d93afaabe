"""The values of multimodal measurement: what content is, which formula counted it, the result.

All are frozen dataclasses. ``ImageInput`` and ``MediaInput`` check themselves when built, so
a value that exists is one every formula can count; bad input raises ``InvalidImageError`` or
``InvalidMediaError`` with a message that says what to pass instead.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from ciyuan.core.errors import InvalidImageError, InvalidMediaError
from ciyuan.core.measurement import Method

__all__ = [
    "MAX_FPS",
    "MAX_SECONDS",
    "MAX_SIDE_PX",
    "RETRIEVED",
    "Detail",
    "Direction",
    "FamilyCount",
    "Formula",
    "ImageInput",
    "MediaInput",
    "MediaKind",
    "MediaTokens",
    "Modality",
]

Detail = Literal["auto", "low", "high"]
MediaKind = Literal["audio", "video"]
Direction = Literal["input", "output"]
Modality = Literal["image", "audio", "video"]

#: The day every vendor page cited by the built-in formulas was read.
RETRIEVED = dt.date(2026, 11, 22)

#: Bound on an image side. Far above what any provider accepts (Anthropic: 8000 px); a
#: bigger number is a unit mistake (bytes, not pixels) and would only slow the arithmetic.
MAX_SIDE_PX = 100_000
#: Bound on one audio/video part: a day. No provider takes a longer single part; a bigger
#: number is almost always milliseconds passed as seconds.
MAX_SECONDS = 86_400
#: Bound on a sampling frame rate: above any camera's rate; catches ms-per-frame mix-ups.
MAX_FPS = 1_000

_DETAILS: tuple[str, ...] = ("auto", "low", "high")
_KINDS: tuple[str, ...] = ("audio", "video")
_DIRECTIONS: tuple[str, ...] = ("input", "output")


def _check_side(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidImageError(
            f"image {name} must be a positive integer number of pixels, got {value!r}: "
            f"pass the decoded image's {name} in pixels (e.g. 1024)",
            field=name,
            value=repr(value),
        )
    if value > MAX_SIDE_PX:
        raise InvalidImageError(
            f"image {name} {value} px is over the {MAX_SIDE_PX} px bound: pass the pixel "
            f"{name} of the decoded image, not its size in bytes",
            field=name,
            value=value,
        )


@dataclass(frozen=True)
class ImageInput:
    """One image as a model sees it: pixel size and the requested detail level.

    ``detail`` is OpenAI's request setting; other families ignore it (their results say so).
    """

    width: int
    height: int
    detail: Detail = "auto"

    def __post_init__(self) -> None:
        _check_side("width", self.width)
        _check_side("height", self.height)
        if self.detail not in _DETAILS:
            raise InvalidImageError(
                f"image detail must be one of {', '.join(_DETAILS)}, got {self.detail!r}: "
                "use 'low' or 'high' as in the request, or 'auto' when the request left it out",
                field="detail",
                value=repr(self.detail),
            )

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _exact_number(value: object, field: str) -> Fraction:
    """``value`` as an exact fraction; floats by their shortest decimal form (0.3 → 3/10)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise InvalidMediaError(
            f"media {field} must be a number, got {value!r}: pass a plain number such as 12.5",
            field=field,
            value=repr(value),
        )
    if isinstance(value, Decimal):
        finite = value.is_finite()
    else:
        finite = not isinstance(value, float) or math.isfinite(value)
    if not finite:
        raise InvalidMediaError(
            f"media {field} must be a finite number, got {value!r}: pass the measured value",
            field=field,
            value=repr(value),
        )
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


@dataclass(frozen=True)
class MediaInput:
    """One audio or video part: its duration, and for video the sampling rate if not default.

    ``seconds`` may be an int, float, Decimal or Fraction; counts use its exact value (a float
    by its shortest decimal form, so 0.3 s is 3/10 s). ``fps`` is the frame rate the model
    samples (``None``: the provider's default). ``direction`` matters only where a provider
    counts model-spoken audio differently (OpenAI).
    """

    seconds: float | Decimal | Fraction
    kind: MediaKind = "audio"
    fps: float | Decimal | Fraction | None = None
    direction: Direction = "input"

    def __post_init__(self) -> None:
        self._check_kind()
        seconds = _exact_number(self.seconds, "seconds")
        if seconds < 0 or seconds > MAX_SECONDS:
            raise InvalidMediaError(
                f"media seconds must be between 0 and {MAX_SECONDS} (one day), got "
                f"{self.seconds!r}: pass the duration in seconds, not milliseconds",
                field="seconds",
                value=repr(self.seconds),
            )
        if self.fps is not None:
            self._check_fps()

    def _check_kind(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidMediaError(
                f"media kind must be 'audio' or 'video', got {self.kind!r}: images are "
                "ImageInput values",
                field="kind",
                value=repr(self.kind),
            )
        if self.direction not in _DIRECTIONS:
            raise InvalidMediaError(
                f"media direction must be 'input' or 'output', got {self.direction!r}: use "
                "'output' only for audio the model speaks",
                field="direction",
                value=repr(self.direction),
            )

    def _check_fps(self) -> None:
        if self.kind != "video":
            raise InvalidMediaError(
                "fps applies to video only: leave fps out (None) for audio",
                field="fps",
                value=repr(self.fps),
            )
        fps = _exact_number(self.fps, "fps")
        if fps <= 0 or fps > MAX_FPS:
            raise InvalidMediaError(
                f"video fps must be above 0 and at most {MAX_FPS}, got {self.fps!r}: pass the "
                "frames per second the model samples, or None for the provider's default",
                field="fps",
                value=repr(self.fps),
            )

    @property
    def exact_seconds(self) -> Fraction:
        return _exact_number(self.seconds, "seconds")

    @property
    def exact_fps(self) -> Fraction | None:
        return None if self.fps is None else _exact_number(self.fps, "fps")


@dataclass(frozen=True)
class Formula:
    """One published, versioned rule that turns content into tokens, with its provenance.

    ``id`` is ``"<name>@<version>"`` and never changes meaning: a changed rule gets a new
    version. ``conflicts`` records where sources disagree and which other formula holds the
    other reading.
    """

    id: str
    family: str
    modality: Modality
    version: str
    source_url: str
    retrieved: dt.date
    description: str
    rounding: str
    conflicts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.id.endswith(f"@{self.version}"), f"{self.id}: id must end with @version"
        assert self.source_url.startswith("https://"), f"{self.id}: source must be a URL"


@dataclass(frozen=True)
class FamilyCount:
    """What a formula family answers: the formula used, the tokens, and any caveats."""

    formula: Formula
    tokens: int
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert isinstance(self.tokens, int) and self.tokens >= 0, self.tokens


@dataclass(frozen=True)
class MediaTokens:
    """Native and standard tokens of one image, audio or video part for one model.

    ``native_tokens`` follow the model's provider formula (``formula_id``); ``standard_tokens``
    follow the pinned standard conversion (``standard_formula_id``) and do not depend on the
    model. Both are formula results, so ``method`` is ``estimated``: the provider's reported
    usage, where there is one, is the billing truth.
    """

    model: str
    family: str
    modality: Modality
    formula_id: str
    native_tokens: int
    standard_tokens: int
    standard_formula_id: str
    method: Method = "estimated"
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.native_tokens >= 0 and self.standard_tokens >= 0
