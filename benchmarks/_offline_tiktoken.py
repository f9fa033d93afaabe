"""Make ``tiktoken.get_encoding`` work offline for the baselines: fill a private tiktoken cache
from the vocabulary files already installed (tiktoken then checks its own hash pins)."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from typing import Any

from ciyuan.measure.vocab import BUILTIN_VOCABULARIES, vocabulary_path

_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def raw_encoding(name: str) -> Any:
    cache = os.path.join(tempfile.gettempdir(), "ciyuan-bench-tiktoken-cache")
    os.makedirs(cache, exist_ok=True)
    for spec in BUILTIN_VOCABULARIES:
        if spec.name == name:
            key = hashlib.sha1(_URL.format(name).encode()).hexdigest()
            target = os.path.join(cache, key)
            if not os.path.exists(target):
                with open(target, "wb") as fh:
                    fh.write(gzip.decompress(vocabulary_path(spec).read_bytes()))
    # benchmark-process only (not library code): point tiktoken at the offline cache
    os.environ["TIKTOKEN_CACHE_DIR"] = cache
    import tiktoken

    return tiktoken.get_encoding(name)
