"""``Usage``: what one call (or a sum of calls) consumed, in native units, by category.

The convention is OpenAI's (docs/concepts/usage.md):

* ``input_tokens`` counts ALL input tokens: uncached, cache reads (``cached_input_tokens``) and
  cache writes (``cache_write_tokens``) alike. Cache reads and writes are subsets of it.
* ``cache_write_1h_tokens`` is the part of ``cache_write_tokens`` written with a one-hour TTL
  (Anthropic); the rest was written with the default (five-minute) TTL.
* ``output_tokens`` counts ALL output tokens, reasoning (thinking) included;
  ``reasoning_tokens`` is a subset of it.
* per-modality counts (audio, image, video) are subsets of the uncached input or of the output.
* unit counts (``images`` generated, ``audio_seconds``, ``requests``) are independent.

Vendors that report differently (Anthropic, Gemini, DeepSeek) are converted by the
``from_*`` constructors below, so rating sees one convention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ciyuan.core.errors import InputError

__all__ = ["InvalidUsageError", "Usage"]


class InvalidUsageError(InputError):
    code = "invalid-usage"
    summary = ("A usage count is negative, not an integer, or inconsistent (cached > input, "
               "reasoning > output); the message names the field and the fix.")


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidUsageError(
            f"usage.{name} must be a whole number of {_unit(name)}, got {value!r}; "
            f"pass an integer such as {name}=1000",
            field=name, value=repr(value))
    if value < 0:
        raise InvalidUsageError(
            f"usage.{name} is {value}; counts cannot be negative (report 0 if there were none)",
            field=name, value=value)
    return value


def _unit(name: str) -> str:
    if name.endswith("_tokens"):
        return "tokens"
    return {"audio_seconds": "seconds", "images": "images", "requests": "requests"}[name]


@dataclass(frozen=True, slots=True)
class Usage:
    """Native counts by category (see the module docstring for the convention)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    input_audio_tokens: int = 0
    input_image_tokens: int = 0
    input_video_tokens: int = 0
    output_audio_tokens: int = 0
    output_image_tokens: int = 0
    images: int = 0
    audio_seconds: int = 0
    requests: int = 1

    def __post_init__(self) -> None:
        counts = (self.input_tokens, self.output_tokens, self.cached_input_tokens,
                  self.cache_write_tokens, self.cache_write_1h_tokens, self.reasoning_tokens,
                  self.input_audio_tokens, self.input_image_tokens, self.input_video_tokens,
                  self.output_audio_tokens, self.output_image_tokens, self.images,
                  self.audio_seconds, self.requests)
        for value in counts:  # fast path; the slow one names the field
            if type(value) is not int or value < 0:
                for f in fields(self):
                    _count(getattr(self, f.name), f.name)
        if (self.cached_input_tokens + self.cache_write_tokens + self.input_modality_tokens
                <= self.input_tokens and self.cache_write_1h_tokens <= self.cache_write_tokens
                and self.reasoning_tokens + self.output_audio_tokens + self.output_image_tokens
                <= self.output_tokens):
            return
        self._check_subset("cached_input_tokens + cache_write_tokens",
                           self.cached_input_tokens + self.cache_write_tokens,
                           "input_tokens", self.input_tokens,
                           "input_tokens counts all input, cached and cache-written included "
                           "(OpenAI's convention); for Anthropic usage use Usage.from_anthropic")
        self._check_subset("cache_write_1h_tokens", self.cache_write_1h_tokens,
                           "cache_write_tokens", self.cache_write_tokens,
                           "cache_write_tokens counts cache writes of every TTL")
        self._check_subset("reasoning_tokens", self.reasoning_tokens,
                           "output_tokens", self.output_tokens,
                           "output_tokens counts all output, reasoning included; for Gemini "
                           "usage use Usage.from_gemini")
        self._check_subset("input modality tokens", self.input_modality_tokens,
                           "uncached input", self.uncached_input_tokens,
                           "audio/image/video input counts are part of the uncached input")
        self._check_subset("reasoning_tokens + output modality tokens",
                           self.reasoning_tokens + self.output_audio_tokens
                           + self.output_image_tokens,
                           "output_tokens", self.output_tokens,
                           "reasoning and audio/image output counts are parts of output_tokens")

    @staticmethod
    def _check_subset(part: str, part_value: int, whole: str, whole_value: int,
                      fix: str) -> None:
        if part_value > whole_value:
            raise InvalidUsageError(
                f"usage: {part} ({part_value}) exceeds {whole} ({whole_value}); {fix}",
                field=part.split(" ")[0], value=part_value)

    @property
    def input_modality_tokens(self) -> int:
        return self.input_audio_tokens + self.input_image_tokens + self.input_video_tokens

    @property
    def uncached_input_tokens(self) -> int:
        return self.input_tokens - self.cached_input_tokens - self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                        for f in fields(self)})

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # -- provider adapters ---------------------------------------------------------------
    @classmethod
    def from_openai(cls, usage: Mapping[str, Any]) -> Usage:
        """From an OpenAI-style ``usage`` object (chat completions or responses API)."""
        prompt = usage.get("prompt_tokens", usage.get("input_tokens", 0))
        completion = usage.get("completion_tokens", usage.get("output_tokens", 0))
        prompt_details = (usage.get("prompt_tokens_details")
                          or usage.get("input_tokens_details") or {})
        completion_details = (usage.get("completion_tokens_details")
                              or usage.get("output_tokens_details") or {})
        return cls(
            input_tokens=prompt,
            output_tokens=completion,
            cached_input_tokens=prompt_details.get("cached_tokens") or 0,
            input_audio_tokens=prompt_details.get("audio_tokens") or 0,
            reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
            output_audio_tokens=completion_details.get("audio_tokens") or 0,
        )

    @classmethod
    def from_anthropic(cls, usage: Mapping[str, Any]) -> Usage:
        """From Anthropic's ``usage``, whose ``input_tokens`` EXCLUDES cache reads and writes."""
        uncached = usage.get("input_tokens", 0)
        reads = usage.get("cache_read_input_tokens") or 0
        writes = usage.get("cache_creation_input_tokens") or 0
        creation = usage.get("cache_creation") or {}
        writes_1h = creation.get("ephemeral_1h_input_tokens") or 0
        return cls(
            input_tokens=_count(uncached, "input_tokens") + _count(reads, "cached_input_tokens")
            + _count(writes, "cache_write_tokens"),
            output_tokens=usage.get("output_tokens", 0),
            cached_input_tokens=reads,
            cache_write_tokens=writes,
            cache_write_1h_tokens=writes_1h,
        )

    @classmethod
    def from_gemini(cls, usage: Mapping[str, Any]) -> Usage:
        """From Gemini's ``usageMetadata``: thoughts are billed as output, so they are added."""
        candidates = usage.get("candidatesTokenCount") or 0
        thoughts = usage.get("thoughtsTokenCount") or 0
        return cls(
            input_tokens=usage.get("promptTokenCount") or 0,
            cached_input_tokens=usage.get("cachedContentTokenCount") or 0,
            output_tokens=_count(candidates, "output_tokens") + _count(thoughts,
                                                                       "reasoning_tokens"),
            reasoning_tokens=thoughts,
        )

    @classmethod
    def from_deepseek(cls, usage: Mapping[str, Any]) -> Usage:
        """From DeepSeek's ``usage``: cache hits and misses add up to ``prompt_tokens``."""
        details = usage.get("completion_tokens_details") or {}
        hits = usage.get("prompt_cache_hit_tokens")
        misses = usage.get("prompt_cache_miss_tokens")
        prompt = usage.get("prompt_tokens")
        if prompt is None:
            prompt = _count(hits or 0, "cached_input_tokens") + _count(misses or 0,
                                                                       "input_tokens")
        return cls(
            input_tokens=prompt,
            cached_input_tokens=hits or 0,
            output_tokens=usage.get("completion_tokens", 0),
            reasoning_tokens=details.get("reasoning_tokens") or 0,
        )
