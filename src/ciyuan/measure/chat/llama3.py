"""The ``llama3`` format, as Llama 3.1's chat template renders it (also Llama 3.2 and 3.3).

Source: ``chat_template`` in meta-llama/Llama-3.1-8B-Instruct's tokenizer_config.json::

    <|begin_of_text|>
    <|start_header_id|>system<|end_header_id|>\n\n
        Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n{system}<|eot_id|>
    <|start_header_id|>{role}<|end_header_id|>\n\n{content stripped}<|eot_id|>   (each message)
    <|start_header_id|>assistant<|end_header_id|>\n\n                             (priming)

The 3.1 template always writes the system header with its knowledge-cutoff lines, even without
a system message (Llama 3.0's template did not: ~20 tokens less). Tools go into the first user
message as JSON (indent 4) after a fixed instruction; a tool call is
``{"name": …, "parameters": …}`` and a tool result is an ``ipython`` turn whose content the
template JSON-encodes. The template accepts one tool call per message: more than one is counted
as consecutive calls and marked estimated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ciyuan.measure.chat.messages import Chat, Message
from ciyuan.measure.chat.prompt import Counter, Prompt, Tally

__all__ = ["Llama3Format", "render_llama3"]

BEGIN, EOT = "<|begin_of_text|>", "<|eot_id|>"
START, END = "<|start_header_id|>", "<|end_header_id|>"
SPECIALS = (BEGIN, START, END, EOT, "<|eom_id|>", "<|python_tag|>")
DATE_STRING = "26 Jul 2024"  # the template's default when no date_string is passed
KNOWLEDGE = f"Cutting Knowledge Date: December 2023\nToday Date: {DATE_STRING}\n\n"
TOOLS_INSTRUCTION = (
    "Given the following functions, please respond with a JSON for a function call "
    "with its proper arguments that best answers the given prompt.\n\n"
    'Respond in the format {"name": function name, "parameters": dictionary of argument name '
    'and its value}.Do not use variables.\n\n'
)


def _tojson(value: object, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _arguments(arguments: str) -> str:
    """Servers (vLLM, SGLang) parse the JSON string before the template re-encodes it."""
    try:
        return _tojson(json.loads(arguments))
    except ValueError:
        return _tojson(arguments)


def _header(p: Prompt, role: str) -> None:
    p.fixed(f"{START}{role}{END}\n\n")


def _system(p: Prompt, chat: Chat) -> list[tuple[int, Message]]:
    """Writes the system block; returns the messages still to render."""
    rest = list(enumerate(chat.messages))
    system = ""
    if chat.messages[0].is_system:
        p.owner = 0
        system = chat.messages[0].text.strip()
        rest = rest[1:]
    _header(p, "system")
    if chat.tools:
        p.fixed("Environment: ipython\n", "tool")
    p.fixed(KNOWLEDGE)
    p.text(system)
    p.fixed(EOT)
    return rest


def _tools_in_first_user(p: Prompt, chat: Chat, rest: list[tuple[int, Message]]) -> None:
    text = ""
    p.owner = None
    if rest:
        index, first = rest.pop(0)
        p.owner, text = index, first.text.strip()
        p.faithful = p.faithful and first.role == "user" and not first.tool_calls
    else:
        p.faithful = False  # the template refuses tools without a user message
    _header(p, "user")
    p.fixed(TOOLS_INSTRUCTION, "tool")
    for tool in chat.tools:
        p.text(_tojson(tool.spec, indent=4), "tool")
        p.fixed("\n\n", "tool")
    p.text(text)
    p.fixed(EOT)


def _message(p: Prompt, message: Message) -> None:
    if message.tool_calls:
        p.faithful = p.faithful and len(message.tool_calls) == 1
        for call in message.tool_calls:
            _header(p, "assistant")
            p.fixed('{"name": "', "tool")
            p.text(call.name, "tool")
            p.fixed('", "parameters": ', "tool")
            p.text(_arguments(call.arguments), "tool")
            p.fixed("}", "tool")
            p.fixed(EOT)
    elif message.role == "tool":
        _header(p, "ipython")
        p.text(_tojson(message.text))
        p.fixed(EOT)
    else:
        _header(p, "system" if message.is_system else message.role)
        p.text(message.text.strip())
        p.fixed(EOT)


def render_llama3(chat: Chat) -> Prompt:
    p = Prompt(SPECIALS)
    p.fixed(BEGIN)
    rest: Sequence[tuple[int, Message]] = _system(p, chat)
    if chat.tools:
        rest = list(rest)
        _tools_in_first_user(p, chat, rest)
    for index, message in rest:
        p.owner = index
        _message(p, message)
    p.owner = None
    _header(p, "assistant")
    return p


class Llama3Format:
    name = "llama3"
    native_tokenizers = frozenset({"llama3"})

    def tally(self, chat: Chat, count: Counter) -> Tally:
        return render_llama3(chat).tally(count, len(chat.messages))
