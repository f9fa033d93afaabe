"""The tokenizer registry: built-in vocabularies, user files and estimate profiles by name.

Vocabularies load lazily (the first ``get``) and stay loaded for the registry's life.
User vocabularies from ciyuan.toml register the same way as the built-ins, and may replace
an estimate profile (e.g. ``[tokenizers.kimi]`` makes Kimi counts exact).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ciyuan.core.errors import ConfigError, UnknownTokenizerError, VocabularyError, closest
from ciyuan.measure.backends import (
    EstimatedTokenizer,
    EstimateProfile,
    Tokenizer,
    build_tokenizer,
)
from ciyuan.measure.estimates import ESTIMATE_PROFILES
from ciyuan.measure.vocab import (
    BUILTIN_VOCABULARIES,
    CL100K_PATTERN,
    O200K_PATTERN,
    QWEN35_PATTERN,
    QWEN_PATTERN,
    VocabularySpec,
    vocabulary_path,
)

__all__ = ["TokenizerInfo", "TokenizerRegistry", "user_vocabularies"]

_PATTERN_PRESETS = {
    "o200k": O200K_PATTERN,
    "cl100k": CL100K_PATTERN,
    "qwen": QWEN_PATTERN,
    "qwen3.5": QWEN35_PATTERN,
}


@dataclass(frozen=True)
class TokenizerInfo:
    name: str
    kind: str  # "vocabulary" | "estimate"
    backend: str
    exact: bool
    source: str
    sha256: str
    license: str
    description: str
    available: bool
    problem: str = ""


class TokenizerRegistry:
    """Name → tokenizer, loading each vocabulary once (thread-safe)."""

    def __init__(
        self,
        vocabularies: Iterable[VocabularySpec] = BUILTIN_VOCABULARIES,
        profiles: Iterable[EstimateProfile] = ESTIMATE_PROFILES,
    ) -> None:
        self._specs: dict[str, VocabularySpec] = {}
        self._profiles: dict[str, EstimateProfile] = {p.name: p for p in profiles}
        self._loaded: dict[str, Tokenizer] = {}
        self._lock = threading.Lock()
        for spec in vocabularies:
            self.register(spec)

    def register(self, spec: VocabularySpec) -> None:
        """Add (or replace) a vocabulary; it replaces an estimate profile of the same name."""
        self._specs[spec.name] = spec
        self._profiles.pop(spec.name, None)
        self._loaded.pop(spec.name, None)

    def names(self) -> list[str]:
        return [*self._specs, *self._profiles]

    def __contains__(self, name: object) -> bool:
        return name in self._specs or name in self._profiles

    def get(self, name: str) -> Tokenizer:
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
        if name in self._specs:
            tokenizer: Tokenizer = build_tokenizer(self._specs[name])
        elif name in self._profiles:
            profile = self._profiles[name]
            tokenizer = EstimatedTokenizer(profile, self.get(profile.proxy))
        else:
            suggestions = closest(name, self.names())
            hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
            raise UnknownTokenizerError(
                f"unknown tokenizer {name!r}.{hint} Run `ciyuan tokenizers` for the list, or "
                f"declare it in ciyuan.toml under [tokenizers.{name}].",
                tokenizer=name,
            )
        with self._lock:
            return self._loaded.setdefault(name, tokenizer)

    def is_exact(self, name: str) -> bool:
        return name in self._specs

    def info(self) -> list[TokenizerInfo]:
        out: list[TokenizerInfo] = []
        for spec in self._specs.values():
            problem = ""
            try:
                path = str(vocabulary_path(spec))
            except VocabularyError as exc:
                path, problem = "", exc.message
            source = f"{spec.distribution}:{spec.resource}" if spec.package else path
            out.append(
                TokenizerInfo(
                    name=spec.name,
                    kind="vocabulary",
                    backend=spec.backend,
                    exact=True,
                    source=source,
                    sha256=spec.sha256,
                    license=spec.license,
                    description=spec.description,
                    available=not problem,
                    problem=problem,
                )
            )
        for profile in self._profiles.values():
            out.append(
                TokenizerInfo(
                    name=profile.name,
                    kind="estimate",
                    backend=f"proxy:{profile.proxy}",
                    exact=False,
                    source=profile.basis,
                    sha256="",
                    license="",
                    description=profile.description,
                    available=profile.proxy in self._specs,
                )
            )
        return out


def user_vocabularies(table: Mapping[str, Any]) -> list[VocabularySpec]:
    """``[tokenizers.NAME]`` tables of ciyuan.toml as vocabulary specs."""
    specs: list[VocabularySpec] = []
    for name, raw in table.items():
        where = f"ciyuan.toml [tokenizers.{name}]"
        if not isinstance(raw, Mapping) or "path" not in raw:
            raise ConfigError(
                f"{where} needs `path = \"/path/to/tokenizer.json or .tiktoken\"`",
                field=f"tokenizers.{name}.path",
            )
        path = str(raw["path"])
        backend = str(raw.get("backend", "hf" if path.endswith(".json") else "tiktoken"))
        if backend not in ("hf", "tiktoken"):
            raise ConfigError(
                f"{where} backend must be \"hf\" or \"tiktoken\", got {backend!r}",
                field=f"tokenizers.{name}.backend",
            )
        pattern = str(raw.get("pattern", "o200k"))
        pattern = _PATTERN_PRESETS.get(pattern, pattern)
        sha = str(raw.get("sha256", ""))
        if not sha:
            raise ConfigError(
                f"{where} needs `sha256 = \"...\"` (pin the file: `sha256sum {path}`)",
                field=f"tokenizers.{name}.sha256",
            )
        specs.append(
            VocabularySpec(
                name=name,
                backend="hf" if backend == "hf" else "tiktoken",
                package="",
                distribution="",
                resource=path,
                sha256=sha,
                pattern=pattern,
                nfc=bool(raw.get("nfc", False)),
                family=str(raw.get("family", "user")),
                license=str(raw.get("license", "user-provided")),
                description=str(raw.get("description", f"user vocabulary {path}")),
            )
        )
    return specs
