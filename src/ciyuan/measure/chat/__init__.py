"""Chat requests: tokens of OpenAI-format messages and tools, with each family's overhead.

In: a list of messages in the OpenAI chat format (plus optional ``tools``) and a model name.
Out: a ``ChatCount`` with native tokens (the model's tokenizer and chat template, ``counted``
when both are the model's own, else ``estimated``), standard tokens (o200k_base, the same for
every model) and a content / overhead / tool / per-message breakdown.

Modules: ``messages`` (validation into values), ``prompt`` (rendered prompts and how they are
counted), one module per family (``openai``, ``chatml``, ``llama3``, ``deepseek``, ``glm``,
``estimated`` for Claude, Gemini and Mistral), ``formats`` (the registry), ``standard`` and
``count`` (the entry point). docs/concepts/chat-overhead.md explains each format's source.
"""

from __future__ import annotations

from ciyuan.measure.chat.count import ChatCount, count_chat
from ciyuan.measure.chat.formats import CHAT_FORMATS, ChatFormatter
from ciyuan.measure.chat.messages import Chat, parse_chat
from ciyuan.measure.chat.standard import STANDARD_REPLY_PRIMING, STANDARD_TOKENS_PER_MESSAGE

__all__ = [
    "CHAT_FORMATS",
    "STANDARD_REPLY_PRIMING",
    "STANDARD_TOKENS_PER_MESSAGE",
    "Chat",
    "ChatCount",
    "ChatFormatter",
    "count_chat",
    "parse_chat",
]
