"""The one error hierarchy of ciyuan.

Every error has a stable ``code`` (kebab-case, listed in ``docs/errors.md``, checked by a
test) and a message that says what to do next::

    CiyuanError
    ├── InputError              bad input from a user or a client
    │   ├── InvalidUtf8Error
    │   ├── InvalidImageError
    │   ├── InvalidMediaError
    │   └── InvalidChatError
    ├── NotFoundError           a named thing does not exist
    │   ├── UnknownModelError
    │   └── UnknownTokenizerError
    ├── ConfigError             ciyuan.toml or CIYUAN_* settings are wrong
    └── VocabularyError         a tokenizer vocabulary cannot be used
        ├── VocabularyMissingError
        └── VocabularyHashMismatchError
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import ClassVar

__all__ = [
    "CiyuanError",
    "ConfigError",
    "InputError",
    "InvalidChatError",
    "InvalidImageError",
    "InvalidMediaError",
    "InvalidUtf8Error",
    "NotFoundError",
    "UnknownModelError",
    "UnknownTokenizerError",
    "VocabularyError",
    "VocabularyHashMismatchError",
    "VocabularyMissingError",
    "all_error_codes",
    "closest",
]

_REGISTRY: dict[str, type[CiyuanError]] = {}


class CiyuanError(Exception):
    """Base of every error ciyuan raises on purpose.

    ``code`` is stable across releases; ``message`` says what went wrong and what to do.
    """

    code: ClassVar[str] = "ciyuan-error"
    #: One-line meaning of the code, rendered into docs/errors.md.
    summary: ClassVar[str] = "Base class of all ciyuan errors."

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is not None:
            assert code not in _REGISTRY, f"duplicate error code {code}"
            _REGISTRY[code] = cls

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.details}


class InputError(CiyuanError):
    code = "invalid-input"
    summary = "The input is malformed; the message names the field and the fix."


class InvalidUtf8Error(InputError):
    code = "invalid-utf8"
    summary = "Text is not valid UTF-8; the message gives the byte offset."


class InvalidImageError(InputError):
    code = "invalid-image"
    summary = "Image dimensions or detail setting cannot be converted to tokens."


class InvalidMediaError(InputError):
    code = "invalid-media"
    summary = "Audio or video duration, frame rate or resolution is out of range."


class InvalidChatError(InputError):
    code = "invalid-chat"
    summary = "Chat messages are not in the OpenAI messages format."


class NotFoundError(CiyuanError):
    code = "not-found"
    summary = "A named object does not exist."


class UnknownModelError(NotFoundError):
    code = "unknown-model"
    summary = "The model is not in the catalog; the message lists the closest known names."


class UnknownTokenizerError(NotFoundError):
    code = "unknown-tokenizer"
    summary = "No tokenizer of that name is registered."


class ConfigError(CiyuanError):
    code = "config-invalid"
    summary = "A setting in ciyuan.toml, a CIYUAN_* variable or a flag is invalid."


class VocabularyError(CiyuanError):
    code = "vocabulary-error"
    summary = "A tokenizer vocabulary cannot be used."


class VocabularyMissingError(VocabularyError):
    code = "vocabulary-missing"
    summary = "The package or file that carries a vocabulary is not installed."


class VocabularyHashMismatchError(VocabularyError):
    code = "vocabulary-hash-mismatch"
    summary = "A vocabulary file's SHA-256 differs from the pinned one."


def all_error_codes() -> dict[str, type[CiyuanError]]:
    """Every registered code → its class (base class included)."""
    return {CiyuanError.code: CiyuanError, **_REGISTRY}


def closest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The known names closest to ``name``, for "did you mean" messages."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    prefix = [c for c in pool if c.lower().startswith(name.lower()[:4])] if len(name) >= 4 else []
    out: list[str] = []
    for h in [lowered[h] for h in hits] + prefix:
        if h not in out:
            out.append(h)
    return out[:n]
