"""Chat formats by name: the catalog's ``chat_format`` picks one for each model.

A format is a small ``ChatFormatter``: ``tally(chat, count)`` gives the native token figures of
a chat with one tokenizer's ``count``. ``native_tokenizers`` names the vocabularies for which the
format is the model's own published one, so that a faithful rendering counts as ``counted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from ciyuan.catalog.models import ModelInfo
from ciyuan.core.errors import ConfigError, InvalidChatError
from ciyuan.measure.chat.chatml import ChatMLFormat
from ciyuan.measure.chat.deepseek import DeepSeekFormat
from ciyuan.measure.chat.estimated import ESTIMATED_FORMATS
from ciyuan.measure.chat.glm import GLMFormat
from ciyuan.measure.chat.llama3 import Llama3Format
from ciyuan.measure.chat.messages import Chat
from ciyuan.measure.chat.openai import OpenAIFormat
from ciyuan.measure.chat.prompt import Counter, Tally

__all__ = ["CHAT_FORMATS", "NO_CHAT", "ChatFormatter", "formatter_for"]

#: The chat_format of models that take no chat (embedding models).
NO_CHAT = "none"


class ChatFormatter(Protocol):
    name: str
    native_tokenizers: frozenset[str]

    def tally(self, chat: Chat, count: Counter) -> Tally:
        """Native token figures of ``chat`` counted with ``count``."""
        ...


_BUILTIN: tuple[ChatFormatter, ...] = (
    OpenAIFormat(), ChatMLFormat(), Llama3Format(), DeepSeekFormat(), GLMFormat(),
    *ESTIMATED_FORMATS,
)
CHAT_FORMATS: Mapping[str, ChatFormatter] = MappingProxyType({f.name: f for f in _BUILTIN})


def formatter_for(model: ModelInfo) -> ChatFormatter:
    """The formatter of ``model``'s chat format, or a clear error."""
    if model.chat_format == NO_CHAT:
        raise InvalidChatError(
            f"model {model.id!r} takes no chat messages (chat_format \"none\", a {model.kind} "
            f"model): count its input text with `ciyuan count` instead",
            model=model.id,
            field="model",
        )
    formatter = CHAT_FORMATS.get(model.chat_format)
    if formatter is None:
        known = ", ".join([*CHAT_FORMATS, NO_CHAT])
        raise ConfigError(
            f"model {model.id!r} has chat_format {model.chat_format!r}, which ciyuan does not "
            f"know: set chat_format in ciyuan.toml [models.\"{model.id}\"] to one of {known}",
            model=model.id,
            field="chat_format",
        )
    return formatter
