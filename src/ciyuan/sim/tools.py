"""Tool calls: whether a request asks for one, and deterministic arguments from its schema.

A tool is called when ``tool_choice`` demands it (``required`` / a named function / Anthropic
``any`` / ``tool``), or, with ``auto``, when the last message is the user's and it names a
tool (a word of the tool's name such as ``weather`` in ``get_weather``) or asks for a tool in
general ("use the tool", "调用工具"). After a tool result the model answers in text.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from ciyuan.sim.phrases import TOOL_WORDS

__all__ = ["ToolCallPlan", "ToolSpec", "choose_tool", "sample_arguments"]

#: Schema nesting followed when making arguments; deeper levels get an empty value.
MAX_SCHEMA_DEPTH = 6
#: Name words too generic to show that a prompt asks for a tool.
_GENERIC = {"get", "set", "list", "make", "create", "run", "do", "the", "for", "tool"}
_WORD = regex.compile(r"[\p{L}\p{N}]+")
#: Words never used as string arguments.
_STOPWORDS = {"what", "the", "is", "in", "of", "and", "for", "please", "use", "tool", "call",
              "with", "to", "a", "an", "how", "me", "tell", "can", "you"}


@dataclass(frozen=True)
class ToolSpec:
    """A tool as either API defines it: a name and a JSON schema for its arguments."""

    name: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ToolCallPlan:
    """The call the model makes: the tool and its arguments as a JSON string."""

    name: str
    arguments: str


def _named(tools: Sequence[ToolSpec], name: object) -> ToolSpec | None:
    return next((t for t in tools if t.name == name), None)


def _mentioned(tools: Sequence[ToolSpec], prompt: str) -> ToolSpec | None:
    lowered = prompt.lower()
    for tool in tools:
        words = [w for w in _WORD.findall(tool.name.lower().replace("_", " "))
                 if w not in _GENERIC and len(w) >= 3]
        if tool.name.lower() in lowered or any(w in lowered for w in words):
            return tool
    if any(word in lowered for word in TOOL_WORDS):
        return tools[0]
    return None


def choose_tool(tools: Sequence[ToolSpec], choice: object, last_role: str,
                prompt: str) -> ToolSpec | None:
    """The tool the model calls, or None to answer in text.

    ``choice`` is normalized by the caller to ``"auto"``, ``"none"``, ``"required"`` or a
    tool name; ``last_role`` and ``prompt`` are the last message's role and text.
    """
    if not tools or choice == "none":
        return None
    if choice == "required":
        return _mentioned(tools, prompt) or tools[0]
    if choice != "auto":
        return _named(tools, choice)
    if last_role != "user":
        return None
    return _mentioned(tools, prompt)


def _value(schema: object, rng: random.Random, words: Sequence[str], depth: int) -> Any:
    if not isinstance(schema, Mapping) or depth > MAX_SCHEMA_DEPTH:
        return None
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        return _object(schema, rng, words, depth + 1)
    if kind == "array":
        return [_value(schema.get("items", {}), rng, words, depth + 1)]
    if kind == "integer":
        return rng.randint(1, 100)
    if kind == "number":
        return round(rng.uniform(0, 100), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice(words) if words else "example"


def _object(schema: Mapping[str, Any], rng: random.Random, words: Sequence[str],
            depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    required = schema.get("required")
    names = [n for n in properties if not isinstance(required, list) or n in required]
    return {str(n): _value(properties[n], rng, words, depth) for n in names}


def sample_arguments(tool: ToolSpec, rng: random.Random, prompt: str) -> ToolCallPlan:
    """Arguments for ``tool`` that fit its schema: required properties (all when none are
    marked required); strings are names from the prompt (capitalized words not starting it),
    else one of its last words."""
    found = _WORD.findall(prompt)
    names = set(_WORD.findall(tool.name.lower().replace("_", " ")))
    words = [w for w in dict.fromkeys(found) if len(w) >= 2 and w.lower() not in names
             and w.lower() not in _STOPWORDS]
    proper = [w for i, w in enumerate(found) if i and w[:1].isupper() and w in words]
    arguments = _object(tool.parameters, rng, proper or words[-3:], 0)
    return ToolCallPlan(tool.name, json.dumps(arguments, ensure_ascii=False))
