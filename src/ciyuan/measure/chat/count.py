"""``count_chat``: native and standard tokens of one chat request for one model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ciyuan.core.measurement import STANDARD_ENCODING, Method
from ciyuan.measure.chat.formats import formatter_for
from ciyuan.measure.chat.messages import parse_chat
from ciyuan.measure.chat.standard import standard_chat_tokens

if TYPE_CHECKING:
    from ciyuan.measure.measurer import Measurer

__all__ = ["ChatCount", "count_chat"]


@dataclass(frozen=True)
class ChatCount:
    """Tokens of one chat request (prompt side) for one model.

    ``native_tokens = content_tokens + overhead_tokens + tool_tokens``: the message texts, the
    family's formatting (roles, separators, special tokens, reply priming) and the tool
    definitions and calls with their markup. ``per_message`` holds each message's share as
    rendered; the rest of ``native_tokens`` (begin-of-text, reply priming, tool blocks outside
    any message) is ``native_tokens - sum(per_message)``. Image parts are not counted here:
    ``image_parts`` says how many there were.
    """

    model: str
    tokenizer: str
    chat_format: str
    native_tokens: int
    standard_tokens: int
    method: Method
    content_tokens: int
    overhead_tokens: int
    tool_tokens: int
    per_message: tuple[int, ...]
    image_parts: int = 0
    standard_encoding: str = STANDARD_ENCODING

    def __post_init__(self) -> None:
        assert self.native_tokens >= 0 and self.standard_tokens >= 0
        assert self.native_tokens == self.content_tokens + self.overhead_tokens + self.tool_tokens
        assert sum(self.per_message) <= self.native_tokens

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["per_message"] = list(self.per_message)
        return out


def count_chat(
    measurer: Measurer,
    messages: Sequence[object],
    model: str,
    tools: Sequence[object] | None = None,
) -> ChatCount:
    """Count an OpenAI-format chat request (``messages`` and optional ``tools``) for ``model``.

    Raises ``UnknownModelError`` for an unknown model, ``InvalidChatError`` for malformed
    messages (naming the index and field) or a model that takes no chat.
    """
    info = measurer.model(model)
    formatter = formatter_for(info)
    chat = parse_chat(messages, tools)
    tokenizer = measurer.tokenizer_for(info)
    standard = measurer.standard
    tally = formatter.tally(chat, lambda text: measurer.count_tokens(text, tokenizer))
    exact = (tally.faithful and info.tokenizer in formatter.native_tokenizers
             and measurer.registry.is_exact(info.tokenizer))
    native = tally.native_tokens
    return ChatCount(
        model=info.id,
        tokenizer=info.tokenizer,
        chat_format=formatter.name,
        native_tokens=native,
        standard_tokens=standard_chat_tokens(chat, lambda t: measurer.count_tokens(t, standard)),
        method="counted" if exact else "estimated",
        content_tokens=tally.content_tokens,
        overhead_tokens=native - tally.content_tokens - tally.tool_tokens,
        tool_tokens=tally.tool_tokens,
        per_message=tally.per_message,
        image_parts=chat.images,
    )
