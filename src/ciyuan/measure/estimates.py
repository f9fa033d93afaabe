"""Model families without a public tokenizer, and the proxy each is estimated with.

For billing, the provider's reported usage is the truth for these models; local figures are
``estimated`` and every result says so. The proxy is the public vocabulary nearest to the
family's own in design and size (docs/concepts/standard-token.md explains the choice), so the
exchange rates published for these families are rates of the proxy, flagged as estimates.
"""

from __future__ import annotations

from ciyuan.measure.backends import EstimateProfile

__all__ = ["ESTIMATE_PROFILES"]

ESTIMATE_PROFILES: tuple[EstimateProfile, ...] = (
    EstimateProfile(
        name="claude",
        proxy="cl100k_base",
        basis="Anthropic publishes no tokenizer; counts come from the Messages API usage or "
        "its count_tokens endpoint. Proxy: cl100k_base, a ~100k byte-level BPE of the same "
        "generation.",
        description="Anthropic Claude (estimated)",
    ),
    EstimateProfile(
        name="gemini",
        proxy="o200k_base",
        basis="Google publishes no Gemini vocabulary file; counts come from usageMetadata or "
        "countTokens. Proxy: o200k_base, a large multilingual vocabulary like Gemini's 256k.",
        description="Google Gemini (estimated)",
    ),
    EstimateProfile(
        name="doubao",
        proxy="qwen",
        basis="ByteDance publishes no Doubao vocabulary; counts come from the Ark API usage. "
        "Proxy: Qwen's 151k BPE, a Chinese-first vocabulary of similar size.",
        description="ByteDance Doubao (estimated)",
    ),
    EstimateProfile(
        name="kimi",
        proxy="qwen",
        basis="No PyPI package ships Moonshot's Kimi vocabulary (a ~160k tiktoken BPE); "
        "counts come from the API usage. Proxy: Qwen's 151k BPE. Point ciyuan.toml "
        "[tokenizers.kimi] at the tiktoken.model file to count exactly.",
        description="Moonshot Kimi (estimated)",
    ),
    EstimateProfile(
        name="mistral",
        proxy="llama3",
        basis="Mistral's Tekken vocabulary ships only with the heavy mistral-common package; "
        "counts come from the API usage. Proxy: Llama 3's 128k tiktoken-style BPE, of the "
        "same design and size (Tekken: 131k).",
        description="Mistral (estimated)",
    ),
)
