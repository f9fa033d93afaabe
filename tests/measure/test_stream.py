"""The streaming counter ends at the same total as counting the assembled text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ciyuan.core.errors import InvalidUtf8Error
from ciyuan.measure.calibration import corpus_text
from ciyuan.measure.measurer import Measurer
from ciyuan.measure.stream import StreamCounter, safe_chunks

TOKENIZERS = ["o200k_base", "cl100k_base", "qwen", "qwen3.5", "deepseek-v3", "deepseek-v4",
              "glm-4.5", "llama3"]
SAMPLE = "".join(corpus_text(lang)[:1500] for lang in ("zh", "en", "code", "mixed"))
# Text built from pieces that stress boundaries: newlines, spaces, CJK, combining marks, digits.
ALPHABET = st.sampled_from(
    list("ab Z9\n\n\t  ,.;{}()") + ["中", "文", "。", "é", "e\u0301", "😀", "\r\n", "'s", "  \n"]
)
texts = st.lists(ALPHABET, max_size=300).map("".join) | st.just(SAMPLE)


def _cuts(draw_list: list[int], size: int) -> list[int]:
    return sorted({c % (size + 1) for c in draw_list})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, cuts=st.lists(st.integers(min_value=0), max_size=12),
       name=st.sampled_from(TOKENIZERS), flush=st.sampled_from([1, 7, 64, 4096]))
def test_bytes_split_anywhere_same_total(
    measurer: Measurer, text: str, cuts: list[int], name: str, flush: int
) -> None:
    tokenizer = measurer.registry.get(name)
    data = text.encode("utf-8")
    points = [0, *_cuts(cuts, len(data)), len(data)]
    counter = StreamCounter(tokenizer, flush_chars=flush, max_pending_chars=1 << 20)
    for start, end in zip(points, points[1:], strict=False):
        counter.feed(data[start:end])  # cuts fall inside UTF-8 characters too
    assert counter.finish() == tokenizer.count(text)
    assert counter.characters == len(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, cuts=st.lists(st.integers(min_value=0), max_size=12),
       name=st.sampled_from(TOKENIZERS))
def test_text_deltas_same_total(measurer: Measurer, text: str, cuts: list[int], name: str) -> None:
    tokenizer = measurer.registry.get(name)
    points = [0, *_cuts(cuts, len(text)), len(text)]
    counter = StreamCounter(tokenizer, flush_chars=8, max_pending_chars=1 << 20)
    for start, end in zip(points, points[1:], strict=False):
        counter.feed(text[start:end])
    assert counter.finish() == tokenizer.count(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, name=st.sampled_from(TOKENIZERS))
def test_word_boundary_fallback_is_exact(measurer: Measurer, text: str, name: str) -> None:
    """With a tiny pending bound the counter cuts long lines at word boundaries; unless it
    had to force a cut, the total is still exact."""
    tokenizer = measurer.registry.get(name)
    counter = StreamCounter(tokenizer, flush_chars=16, max_pending_chars=32)
    for i in range(0, len(text), 5):
        counter.feed(text[i : i + 5])
    total = counter.finish()
    if counter.forced_cuts == 0:
        assert total == tokenizer.count(text)
    else:
        assert abs(total - tokenizer.count(text)) <= 2 * counter.forced_cuts


@pytest.mark.parametrize("name", TOKENIZERS)
def test_safe_chunks_are_additive(measurer: Measurer, name: str) -> None:
    tokenizer = measurer.registry.get(name)
    text = SAMPLE * 3
    chunks = safe_chunks(text, 500)
    assert "".join(chunks) == text and len(chunks) > 5
    assert sum(tokenizer.count(c) for c in chunks) == tokenizer.count(text)


def test_long_line_without_newline_uses_word_boundaries(measurer: Measurer) -> None:
    tokenizer = measurer.registry.get("o200k_base")
    text = "token economy statistics " * 4000  # one 100 KB line
    counter = StreamCounter(tokenizer, flush_chars=1024, max_pending_chars=4096)
    for i in range(0, len(text), 1000):
        counter.feed(text[i : i + 1000])
    assert counter.finish() == tokenizer.count(text)
    assert counter.forced_cuts == 0


def test_invalid_utf8_names_the_byte_offset(measurer: Measurer) -> None:
    counter = StreamCounter(measurer.registry.get("o200k_base"))
    counter.feed(b"hello ")
    with pytest.raises(InvalidUtf8Error) as info:
        counter.feed(b"wor\xffld")
    assert info.value.details["byte_offset"] == 9
    assert "--errors replace" in info.value.message


def test_invalid_utf8_replace_goes_on(measurer: Measurer) -> None:
    tokenizer = measurer.registry.get("o200k_base")
    counter = StreamCounter(tokenizer, errors="replace")
    counter.feed(b"ab\xff")
    counter.feed(b"cd\xe4")  # truncated character at the end
    assert counter.finish() == tokenizer.count("ab\ufffdcd\ufffd")


def test_empty_stream_counts_zero(measurer: Measurer) -> None:
    counter = StreamCounter(measurer.registry.get("qwen"))
    counter.feed(b"")
    assert counter.finish() == 0
