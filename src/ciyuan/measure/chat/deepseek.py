"""The ``deepseek`` format, as DeepSeek-V3's chat template renders it.

Source: ``chat_template`` in deepseek-ai/DeepSeek-V3's tokenizer_config.json::

    <｜begin▁of▁sentence｜>{all system messages, joined by "\\n\\n"}
    <｜User｜>{content}                                   (user)
    <｜Assistant｜>{content}<｜end▁of▁sentence｜>          (assistant)
    <｜Assistant｜>                                       (priming)

Tool calls: ``<｜tool▁calls▁begin｜>`` + calls joined by a newline, each
``<｜tool▁call▁begin｜>function<｜tool▁sep｜>{name}\\n```json\\n{arguments}\\n```<｜tool▁call▁end｜>``,
then ``<｜tool▁calls▁end｜><｜end▁of▁sentence｜>``; tool results
``<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{content}<｜tool▁output▁end｜>…<｜tool▁outputs▁end｜>``
and the assistant answer follows without ``<｜Assistant｜>``. The published template
mis-renders some of these sequences (it drops calls of messages that also have content and
never reopens ``<｜tool▁outputs▁begin｜>``); we count the format it intends. V3's template has
no place for tool definitions: we add the ``## Tools`` block of DeepSeek-V3.1's model card to
the system prompt. Every chat with tools is therefore ``estimated``.

V3.1 and later (deepseek-chat, deepseek-reasoner, V4) add ``</think>`` or ``<think>`` after
``<｜Assistant｜>``: one token per assistant turn and one in the priming more than counted here.
"""

from __future__ import annotations

import json

from ciyuan.measure.chat.messages import Chat, Message
from ciyuan.measure.chat.prompt import Counter, Prompt, Tally

__all__ = ["DeepSeekFormat", "render_deepseek"]

BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
USER, ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
CALLS_BEGIN, CALLS_END = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
CALL_BEGIN, CALL_END, SEP = "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>"
OUTPUTS_BEGIN, OUTPUTS_END = "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>"
OUTPUT_BEGIN, OUTPUT_END = "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>"
SPECIALS = (BOS, EOS, USER, ASSISTANT, CALLS_BEGIN, CALLS_END, CALL_BEGIN, CALL_END, SEP,
            OUTPUTS_BEGIN, OUTPUTS_END, OUTPUT_BEGIN, OUTPUT_END)
TOOLS_HEADER = "## Tools\nYou have access to the following tools:\n\n"
TOOLS_FOOTER = (
    "IMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    f"{CALLS_BEGIN}{CALL_BEGIN}tool_call_name{SEP}tool_call_arguments{CALL_END}"
    f"{{additional_tool_calls}}{CALLS_END}\n\n"
    "Where:\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters "
    "Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces"
)


def _system(p: Prompt, chat: Chat) -> None:
    p.fixed(BOS)
    systems = [i for i, m in enumerate(chat.messages) if m.is_system]
    for n, index in enumerate(systems):
        p.owner = index
        if n:
            p.fixed("\n\n")
        p.text(chat.messages[index].text)
    if not chat.tools:
        return
    p.owner = None
    p.fixed("\n\n" if systems else "", "tool")
    p.fixed(TOOLS_HEADER, "tool")
    for tool in chat.tools:
        p.fixed("### ", "tool")
        p.text(tool.name, "tool")
        p.fixed("\nDescription: ", "tool")
        p.text(tool.description, "tool")
        p.fixed("\n\nParameters: ", "tool")
        p.text(json.dumps(tool.parameters, ensure_ascii=False), "tool")
        p.fixed("\n\n", "tool")
    p.fixed(TOOLS_FOOTER, "tool")


def _calls(p: Prompt, message: Message) -> None:
    p.fixed(CALLS_BEGIN, "tool")
    for j, call in enumerate(message.tool_calls):
        p.fixed(("\n" if j else "") + f"{CALL_BEGIN}function{SEP}", "tool")
        p.text(call.name, "tool")
        p.fixed("\n```json\n", "tool")
        p.text(call.arguments, "tool")
        p.fixed(f"\n```{CALL_END}", "tool")
    p.fixed(CALLS_END, "tool")


def render_deepseek(chat: Chat) -> Prompt:
    p = Prompt(SPECIALS)
    _system(p, chat)
    in_outputs = False
    for index, message in enumerate(chat.messages):
        if message.is_system:
            continue
        p.owner = index
        if message.role == "tool":
            p.fixed(f"\n{OUTPUT_BEGIN}" if in_outputs else f"{OUTPUTS_BEGIN}{OUTPUT_BEGIN}", "tool")
            p.text(message.text)
            p.fixed(OUTPUT_END, "tool")
            in_outputs = True
            continue
        if in_outputs:
            p.fixed(OUTPUTS_END, "tool")
        if message.role == "user":
            p.fixed(USER)
            p.text(message.text)
        else:
            p.fixed("" if in_outputs else ASSISTANT)
            p.text(message.text)
            if message.tool_calls:
                _calls(p, message)
            p.fixed(EOS)
        in_outputs = False
    p.owner = None
    p.fixed(OUTPUTS_END if in_outputs else ASSISTANT)
    p.faithful = not chat.uses_tools
    return p


class DeepSeekFormat:
    name = "deepseek"
    native_tokenizers = frozenset({"deepseek-v3"})

    def tally(self, chat: Chat, count: Counter) -> Tally:
        return render_deepseek(chat).tally(count, len(chat.messages))
