"""The official ``openai`` SDK against a real sim-provider process."""

from __future__ import annotations

import base64
import json
import struct

import openai
import pytest
import regex

from ciyuan.measure.chat import count_chat
from ciyuan.measure.measurer import Measurer

HAN = regex.compile(r"\p{Han}")
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather of a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
        "days": {"type": "integer"}}, "required": ["city", "unit"]}}}


@pytest.mark.parametrize(("model", "basis", "tokenizer"), [
    ("sim-gpt", "gpt-4o", "o200k_base"),
    ("sim-qwen", "qwen-turbo", "qwen"),
    ("sim-deepseek", "deepseek-chat", "deepseek-v3"),
])
def test_usage_is_the_real_tokenizer_count(oai: openai.OpenAI, measurer: Measurer, model: str,
                                           basis: str, tokenizer: str) -> None:
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Explain prompt caching in two sentences."}]
    response = oai.chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
    usage, text = response.usage, response.choices[0].message.content
    assert usage is not None and text
    assert usage.prompt_tokens == count_chat(measurer, messages, basis).native_tokens
    assert usage.completion_tokens == measurer.registry.get(tokenizer).count(text)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert response.choices[0].finish_reason == "stop" and response.model == model
    assert not HAN.search(text)


def test_max_tokens_cuts_with_finish_reason_length(oai: openai.OpenAI,
                                                   measurer: Measurer) -> None:
    response = oai.chat.completions.create(
        model="sim-gpt", max_tokens=7, messages=[{"role": "user", "content": "Tell me more"}])
    text = response.choices[0].message.content or ""
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None and 0 < response.usage.completion_tokens <= 7
    assert response.usage.completion_tokens == measurer.registry.get("o200k_base").count(text)


def test_chinese_prompt_gets_a_chinese_answer(oai: openai.OpenAI) -> None:
    response = oai.chat.completions.create(
        model="sim-qwen", messages=[{"role": "user", "content": "请用中文介绍一下词元计量。"}])
    text = response.choices[0].message.content or ""
    assert len(HAN.findall(text)) > 0.6 * len(text.replace(" ", ""))


def test_stream_without_include_usage_has_no_usage(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Describe streaming responses."}]
    plain = oai.chat.completions.create(model="sim-gpt", messages=messages)  # type: ignore[arg-type]
    chunks = list(oai.chat.completions.create(model="sim-gpt", messages=messages,  # type: ignore[arg-type]
                                              stream=True))
    assert all(c.usage is None for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_include_usage_puts_usage_in_the_last_chunk_only(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Describe usage accounting."}]
    plain = oai.chat.completions.create(model="sim-deepseek", messages=messages)  # type: ignore[arg-type]
    chunks = list(oai.chat.completions.create(
        model="sim-deepseek", messages=messages, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True}))
    assert [c.usage is not None for c in chunks].count(True) == 1
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == plain.usage.prompt_tokens  # type: ignore[union-attr]
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens  # type: ignore[union-attr]


def test_tools_give_tool_calls_plain_and_streamed(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "What is the weather in Paris today?"}]
    response = oai.chat.completions.create(model="sim-gpt", messages=messages,  # type: ignore[arg-type]
                                           tools=[WEATHER_TOOL])  # type: ignore[list-item]
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    call = choice.message.tool_calls[0]
    arguments = json.loads(call.function.arguments)  # type: ignore[union-attr]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert arguments["city"] == "Paris" and arguments["unit"] in ("c", "f")
    chunks = list(oai.chat.completions.create(model="sim-gpt", messages=messages,  # type: ignore[arg-type]
                                              tools=[WEATHER_TOOL], stream=True))  # type: ignore[list-item]
    streamed = "".join(c.choices[0].delta.tool_calls[0].function.arguments or ""  # type: ignore[union-attr,index]
                       for c in chunks if c.choices and c.choices[0].delta.tool_calls)
    assert json.loads(streamed) == arguments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_after_a_tool_result_the_answer_is_text(oai: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C, sunny"},
    ]
    response = oai.chat.completions.create(model="sim-gpt", messages=messages,  # type: ignore[arg-type]
                                           tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert response.choices[0].finish_reason == "stop"
    assert (response.choices[0].message.content or "").startswith("Based on the tool result")


def test_a_repeated_long_prefix_is_reported_as_cached(oai: openai.OpenAI) -> None:
    system = " ".join(f"Rule {i}: answer with care and cite the record number {i}."
                      for i in range(150))  # ~2,000 tokens
    first = oai.chat.completions.create(model="sim-gpt", messages=[
        {"role": "system", "content": system}, {"role": "user", "content": "First question"}])
    second = oai.chat.completions.create(model="sim-gpt", messages=[
        {"role": "system", "content": system}, {"role": "user", "content": "Second one"}])
    assert first.usage and second.usage and first.usage.prompt_tokens > 1024
    assert first.usage.prompt_tokens_details.cached_tokens == 0  # type: ignore[union-attr]
    cached = second.usage.prompt_tokens_details.cached_tokens  # type: ignore[union-attr]
    assert cached is not None and cached >= 1024 and cached % 128 == 0
    assert cached <= second.usage.prompt_tokens


def test_reasoning_tokens_are_part_of_completion_tokens(oai: openai.OpenAI,
                                                        measurer: Measurer) -> None:
    response = oai.chat.completions.create(
        model="sim-reasoner", messages=[{"role": "user", "content": "Prove it briefly."}])
    usage = response.usage
    assert usage is not None and usage.completion_tokens_details is not None
    reasoning = usage.completion_tokens_details.reasoning_tokens or 0
    visible = measurer.registry.get("o200k_base").count(response.choices[0].message.content or "")
    assert reasoning > 0 and usage.completion_tokens == reasoning + visible


def test_completions_embeddings_and_models(oai: openai.OpenAI, measurer: Measurer) -> None:
    completion = oai.completions.create(model="sim-gpt", prompt="Once upon a time")
    assert completion.usage is not None and completion.usage.completion_tokens <= 16
    assert completion.usage.prompt_tokens == measurer.registry.get("o200k_base").count(
        "Once upon a time")
    first = oai.embeddings.create(model="sim-embed", input=["hello", "你好"])
    again = oai.embeddings.create(model="sim-embed", input="hello", dimensions=1536)
    assert first.data[0].embedding == again.data[0].embedding
    assert len(again.data[0].embedding) == 1536
    assert abs(sum(v * v for v in first.data[1].embedding) - 1) < 1e-5
    assert first.usage.prompt_tokens == sum(
        measurer.registry.get("cl100k_base").count(t) for t in ("hello", "你好"))
    raw = oai.embeddings.with_raw_response.create(model="sim-embed", input="x", dimensions=4,
                                                  encoding_format="base64").http_response.json()
    assert len(struct.unpack("<4f", base64.b64decode(raw["data"][0]["embedding"]))) == 4
    served = {m.id for m in oai.models.list()}
    assert {"sim-gpt", "sim-qwen", "sim-deepseek", "sim-reasoner", "sim-claude",
            "sim-embed"} <= served
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
