"""The ``Measurement`` value: how many tokens, in which unit, and how we know."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from ciyuan.core.language import LanguageClass

__all__ = ["Measurement", "Method", "STANDARD_ENCODING"]

#: How a count was obtained: reported by the provider, counted by us with the model's own
#: tokenizer, or estimated (formula or calibrated ratio).
Method = Literal["reported", "counted", "estimated"]

#: The pinned reference encoding of the standard token (docs/concepts/standard-token.md).
STANDARD_ENCODING = "o200k_base"


@dataclass(frozen=True)
class Measurement:
    """Native and standard token counts of one piece of content for one model."""

    model: str
    tokenizer: str
    native_tokens: int
    standard_tokens: int
    method: Method
    language_class: LanguageClass
    characters: int
    bytes: int
    standard_encoding: str = STANDARD_ENCODING

    def __post_init__(self) -> None:
        assert self.native_tokens >= 0 and self.standard_tokens >= 0

    @property
    def exchange_rate(self) -> float | None:
        """Native ÷ standard tokens of this content (None for empty content)."""
        if self.standard_tokens == 0:
            return None
        return self.native_tokens / self.standard_tokens

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
