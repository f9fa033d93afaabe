"""``Usage``: validated native counts, one convention, provider adapters."""

from __future__ import annotations

import dataclasses

import pytest

from ciyuan.core.errors import InputError
from ciyuan.core.usage import InvalidUsageError, Usage


def test_usage_is_immutable_and_adds_up() -> None:
    a = Usage(input_tokens=10, cached_input_tokens=4, output_tokens=3, reasoning_tokens=1)
    b = Usage(input_tokens=5, output_tokens=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.input_tokens = 0  # type: ignore[misc]
    total = a + b
    assert (total.input_tokens, total.cached_input_tokens, total.output_tokens,
            total.requests) == (15, 4, 5, 2)
    assert a.uncached_input_tokens == 6 and total.total_tokens == 20


@pytest.mark.parametrize(("kwargs", "field", "fix"), [
    ({"input_tokens": -1}, "input_tokens", "cannot be negative"),
    ({"output_tokens": 1.5}, "output_tokens", "whole number"),
    ({"input_tokens": "10"}, "input_tokens", "whole number"),
    ({"input_tokens": True}, "input_tokens", "whole number"),
    ({"input_tokens": 10, "cached_input_tokens": 11}, "cached_input_tokens", "counts all input"),
    ({"input_tokens": 10, "cache_write_tokens": 6, "cached_input_tokens": 5},
     "cached_input_tokens", "Usage.from_anthropic"),
    ({"output_tokens": 3, "reasoning_tokens": 4}, "reasoning_tokens", "reasoning included"),
    ({"input_tokens": 10, "cache_write_tokens": 2, "cache_write_1h_tokens": 3},
     "cache_write_1h_tokens", "every TTL"),
    ({"input_tokens": 10, "cached_input_tokens": 8, "input_audio_tokens": 3}, "input",
     "uncached input"),
])
def test_bad_counts_name_the_field_and_the_fix(kwargs: dict[str, object], field: str,
                                               fix: str) -> None:
    with pytest.raises(InvalidUsageError) as info:
        Usage(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, InputError)
    assert info.value.details["field"] == field
    assert fix in info.value.message


def test_openai_usage_is_taken_as_is() -> None:
    usage = Usage.from_openai({
        "prompt_tokens": 1000, "completion_tokens": 300,
        "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 120},
    })
    assert usage == Usage(input_tokens=1000, cached_input_tokens=400, output_tokens=300,
                          reasoning_tokens=120)
    responses = Usage.from_openai({"input_tokens": 10, "output_tokens": 2,
                                   "input_tokens_details": {"cached_tokens": 3},
                                   "output_tokens_details": {"reasoning_tokens": 1}})
    assert responses.cached_input_tokens == 3 and responses.reasoning_tokens == 1


def test_anthropic_input_excludes_cache_reads_and_writes_so_the_adapter_adds_them() -> None:
    usage = Usage.from_anthropic({
        "input_tokens": 50, "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
        "cache_creation": {"ephemeral_5m_input_tokens": 150, "ephemeral_1h_input_tokens": 50},
        "output_tokens": 80,
    })
    assert usage.input_tokens == 1250
    assert (usage.cached_input_tokens, usage.cache_write_tokens,
            usage.cache_write_1h_tokens) == (1000, 200, 50)
    assert usage.uncached_input_tokens == 50


def test_gemini_thoughts_are_output() -> None:
    usage = Usage.from_gemini({"promptTokenCount": 900, "cachedContentTokenCount": 100,
                               "candidatesTokenCount": 40, "thoughtsTokenCount": 60})
    assert (usage.input_tokens, usage.cached_input_tokens, usage.output_tokens,
            usage.reasoning_tokens) == (900, 100, 100, 60)


def test_deepseek_hits_and_misses() -> None:
    usage = Usage.from_deepseek({"prompt_cache_hit_tokens": 300, "prompt_cache_miss_tokens": 700,
                                 "completion_tokens": 50,
                                 "completion_tokens_details": {"reasoning_tokens": 20}})
    assert (usage.input_tokens, usage.cached_input_tokens, usage.reasoning_tokens) == \
        (1000, 300, 20)
    with pytest.raises(InvalidUsageError):
        Usage.from_anthropic({"input_tokens": -5})
