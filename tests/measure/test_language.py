from __future__ import annotations

import pytest

from ciyuan.core.language import LANGUAGE_CLASSES
from ciyuan.measure.calibration import corpus_text
from ciyuan.measure.language import detect_language


@pytest.mark.parametrize("language", LANGUAGE_CLASSES)
def test_each_corpus_file_is_its_own_class(language: str) -> None:
    assert detect_language(corpus_text(language)) == language  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天的会议讨论了算力成本和词元计量的问题。", "zh"),
        ("The meeting discussed compute costs and token metering.", "en"),
        ("def add(a, b):\n    return a + b\n\nx = add(1, 2)\n", "code"),
        ("这个 API 的 latency 太高了，我们需要 cache 一下 response，然后 retry。", "mixed"),
        ("", "en"),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert detect_language(text) == expected
