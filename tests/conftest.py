"""Shared fixtures: the shipped measurer, and tiktoken's own encodings built offline."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ciyuan.measure import default_measurer
from ciyuan.measure.measurer import Measurer
from ciyuan.measure.vocab import BUILTIN_VOCABULARIES, vocabulary_path

_TIKTOKEN_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


@pytest.fixture(scope="session")
def measurer() -> Measurer:
    return default_measurer()


@pytest.fixture(scope="session")
def tiktoken_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiktoken cache directory filled from the locally installed vocabulary files, so that
    ``tiktoken.get_encoding`` (with tiktoken's own patterns and hash pins) works offline."""
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for spec in BUILTIN_VOCABULARIES:
        if spec.name in _TIKTOKEN_URLS:
            data = gzip.decompress(vocabulary_path(spec).read_bytes())
            key = hashlib.sha1(_TIKTOKEN_URLS[spec.name].encode()).hexdigest()
            (cache / key).write_bytes(data)
    return cache


@pytest.fixture()
def raw_tiktoken(tiktoken_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """tiktoken's own ``get_encoding``, reading only the offline cache."""
    import tiktoken
    import tiktoken.registry

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    yield tiktoken.get_encoding
