from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ciyuan.core.errors import (
    UnknownTokenizerError,
    VocabularyHashMismatchError,
    VocabularyMissingError,
)
from ciyuan.measure.registry import TokenizerRegistry, user_vocabularies
from ciyuan.measure.vocab import BUILTIN_VOCABULARIES, load_vocabulary_bytes, vocabulary_path

O200K = next(s for s in BUILTIN_VOCABULARIES if s.name == "o200k_base")


def test_openai_pins_are_tiktokens_own() -> None:
    import inspect

    import tiktoken_ext.openai_public as public

    source = inspect.getsource(public)
    for spec in BUILTIN_VOCABULARIES:
        if spec.name in ("o200k_base", "cl100k_base"):
            assert spec.sha256 in source


def test_every_builtin_vocabulary_loads_and_matches_its_pin() -> None:
    for spec in BUILTIN_VOCABULARIES:
        assert load_vocabulary_bytes(spec)


def test_hash_mismatch_is_a_clear_error() -> None:
    bad = dataclasses.replace(O200K, sha256="0" * 64)
    with pytest.raises(VocabularyHashMismatchError, match="expected 0000"):
        load_vocabulary_bytes(bad)


def test_missing_package_says_what_to_install() -> None:
    missing = dataclasses.replace(O200K, package="ciyuan_no_such_pkg", distribution="no-such-pkg")
    with pytest.raises(VocabularyMissingError, match="pip install no-such-pkg"):
        vocabulary_path(missing)


def test_user_vocabulary_from_ciyuan_toml(tmp_path: Path) -> None:
    import gzip
    import hashlib

    data = gzip.decompress(vocabulary_path(O200K).read_bytes())
    path = tmp_path / "my.tiktoken"
    path.write_bytes(data)
    table = {"kimi": {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(),
                      "pattern": "o200k"}}
    registry = TokenizerRegistry()
    assert not registry.is_exact("kimi")
    for spec in user_vocabularies(table):
        registry.register(spec)
    assert registry.is_exact("kimi")
    text = "hello world"
    assert registry.get("kimi").count(text) == registry.get("o200k_base").count(text)


def test_unknown_tokenizer_suggests() -> None:
    with pytest.raises(UnknownTokenizerError, match="o200k_base"):
        TokenizerRegistry().get("o200k")
