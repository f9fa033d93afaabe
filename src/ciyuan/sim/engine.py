"""The simulator: what a model answers and the usage a vendor would report for it.

Pure of HTTP: the API modules turn a request into a ``ChatRequest`` (or prompt text), ask the
``Simulator`` for a ``Reply`` and render it in their vendor's shape. Prompt tokens are the
model's real tokenizer count including its chat formatting (``ciyuan.measure.chat``); output
tokens are the tokenizer's count of the text produced, plus hidden reasoning tokens for
reasoning models (included in the output, as OpenAI reports them).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal

from ciyuan.measure.chat import count_chat
from ciyuan.measure.language import detect_language
from ciyuan.measure.measurer import Measurer
from ciyuan.sim.cache import PrefixCache, rounded
from ciyuan.sim.config import MAX_TOKENS_LIMIT, SimConfig
from ciyuan.sim.faults import FaultPlan
from ciyuan.sim.generate import compose_answer, draw, reasoning_tokens
from ciyuan.sim.judging import SimJudge
from ciyuan.sim.models import SimModel
from ciyuan.sim.phrases import OPENERS
from ciyuan.sim.request import ChatRequest
from ciyuan.sim.skill import DEFAULT_SKILLS, AnswerKey, Skills
from ciyuan.sim.tools import ToolCallPlan, choose_tool, sample_arguments

__all__ = ["REPLY_MEMO_ENTRIES", "Reply", "Simulator", "Usage"]

#: Replies remembered by (model, request content, limit), oldest dropped first: benchmark
#: loops repeat a few bodies, and a remembered reply skips tokenizing (~2 KB each, ~8 MB).
REPLY_MEMO_ENTRIES = 4096

Finish = Literal["stop", "length", "tool_calls"]


@dataclass(frozen=True)
class Usage:
    """Usage in the vocabulary of OpenAI's usage export (the log and the export use it).

    ``input_tokens`` counts the whole prompt, cached and cache-written tokens included;
    ``output_tokens`` counts everything generated, reasoning included.
    """

    input_tokens: int = 0
    input_cached_tokens: int = 0
    input_cache_write_tokens: int = 0
    output_tokens: int = 0
    output_reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        assert self.input_cached_tokens + self.input_cache_write_tokens <= self.input_tokens
        assert 0 <= self.output_reasoning_tokens <= self.output_tokens

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Reply:
    """One answer: visible text or a tool call, why it ended, and its usage."""

    text: str
    tool_call: ToolCallPlan | None
    finish: Finish
    usage: Usage

    def delivered(self, text: str, count: Callable[[str], int]) -> Usage:
        """Usage when only ``text`` (a prefix of the answer) reached the client."""
        output = self.usage.output_reasoning_tokens + (count(text) if text else 0)
        return replace(self.usage, output_tokens=output)


class Simulator:
    """Answers and usage for the served models; holds the prompt cache and the fault plan."""

    def __init__(self, config: SimConfig, models: Mapping[str, SimModel],
                 measurer: Measurer) -> None:
        self.config = config
        self.models = dict(models)
        self.measurer = measurer
        self.cache = PrefixCache()
        self.faults = FaultPlan(config)
        self._piece_counts: dict[str, dict[str, int]] = {}
        self._memo: dict[tuple[str, str, int | None], Reply] = {}
        key = (AnswerKey.load(config.answer_key) if config.answer_key is not None
               else AnswerKey.builtin())
        self.skills = Skills(key, config.skills if config.skills is not None
                             else DEFAULT_SKILLS, config.seed)
        self.judge = SimJudge(key, self.skills.accuracy, config.seed)

    def warm(self) -> None:
        """Load every served model's vocabulary and chat format (the first call is slow)."""
        for model in self.models.values():
            self.counter(model)("warm up 预热")
            if model.kind == "chat":
                count_chat(self.measurer, [{"role": "user", "content": "hi"}], model.basis)

    def counter(self, model: SimModel) -> Callable[[str], int]:
        """The model tokenizer's ``count``."""
        return self.measurer.registry.get(model.tokenizer).count

    def _answer(self, model: SimModel, rng_key: str, language: str, limit: int,
                opener: str = "") -> tuple[str, int, bool]:
        rng = draw(self.config.seed, model.name, rng_key, "answer")
        target = rng.randint(*self.config.answer_tokens)
        pieces = self._piece_counts.setdefault(model.tokenizer, {})
        answer = compose_answer(rng, language, self.counter(model), target, limit, opener,
                                pieces)
        return answer.text, answer.tokens, answer.truncated

    def chat(self, model: SimModel, request: ChatRequest, explicit_cache: bool) -> Reply:
        """The answer to a chat request; ``explicit_cache`` selects Anthropic's caching."""
        key = (model.name, request.content_key, request.max_tokens)
        reply = self._memo.get(key)
        if reply is None:
            reply = self._memo[key] = self._generate(model, request)
            if len(self._memo) > REPLY_MEMO_ENTRIES:
                del self._memo[next(iter(self._memo))]  # oldest first
        count, prompt = self.counter(model), reply.usage.input_tokens
        cached = written = 0
        if explicit_cache and request.cache_breakpoint is not None:
            cached, written = self.cache.explicit(model.name, request.segments,
                                                  request.cache_breakpoint, count)
            cached = min(cached, prompt)
            written = min(written, prompt - cached)
        elif not explicit_cache:
            cached = rounded(min(self.cache.automatic(model.name, request.segments, count),
                                 prompt))
        return replace(reply, usage=replace(reply.usage, input_cached_tokens=cached,
                                            input_cache_write_tokens=written))

    def _generate(self, model: SimModel, request: ChatRequest) -> Reply:
        """The answer and its usage before prompt caching (a pure function of the request)."""
        count = self.counter(model)
        prompt = count_chat(self.measurer, request.messages, model.basis,
                            request.tools or None).native_tokens
        rng = draw(self.config.seed, model.name, request.content_key, "plan")
        limit = request.max_tokens or MAX_TOKENS_LIMIT
        reasoning = min(limit, reasoning_tokens(rng, request.reasoning_effort)
                        if model.reasoning else 0)
        room = limit - reasoning
        tool = choose_tool(request.tool_specs, request.tool_choice, request.last_role,
                           request.last_text)
        if tool is not None:
            call = sample_arguments(tool, rng, request.last_text)
            call_tokens = count(call.name) + count(call.arguments)
            if call_tokens <= room:
                usage = Usage(prompt, 0, 0, reasoning + call_tokens, reasoning)
                return Reply("", call, "tool_calls", usage)
        graded = self.skills.answer(model.name, request.last_text, request.seed) \
            if request.last_role == "user" else None
        if graded is None and request.last_role == "user":  # a judge rubric: a verdict
            graded = self.judge.reply(model.name, request.last_text)
        if graded is not None and count(graded) <= room:  # an evaluation item: right or
            usage = Usage(prompt, 0, 0, reasoning + count(graded), reasoning)  # wrong by skill
            return Reply(graded, None, "stop", usage)
        opener = OPENERS[request.language] if request.last_role == "tool" else ""
        text, tokens, cut = self._answer(model, request.content_key, request.language, room,
                                         opener)
        usage = Usage(prompt, 0, 0, reasoning + tokens, reasoning)
        return Reply(text, None, "length" if cut else "stop", usage)

    def complete(self, model: SimModel, prompt: str, limit: int, content_key: str) -> Reply:
        """The answer to a legacy completion prompt (no chat formatting)."""
        count = self.counter(model)
        prompt_tokens = count(prompt)
        cached = rounded(min(self.cache.automatic(model.name, [prompt], count), prompt_tokens))
        language = "zh" if detect_language(prompt) in ("zh", "mixed") else "en"
        text, tokens, cut = self._answer(model, content_key, language, limit)
        return Reply(text, None, "length" if cut else "stop",
                     Usage(prompt_tokens, cached, 0, tokens, 0))

    def embed(self, model: SimModel, inputs: Sequence[str | list[int]],
              dimensions: int) -> tuple[list[list[float]], int]:
        """Unit vectors determined by seed, model and input; and the input tokens."""
        count = self.counter(model)
        vectors, tokens = [], 0
        for item in inputs:
            text = item if isinstance(item, str) else repr(item)
            tokens += count(item) if isinstance(item, str) else len(item)
            vectors.append(unit_vector(self.config.seed, model.name, text, dimensions))
        return vectors, tokens


def unit_vector(seed: int, model: str, text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector (16-bit draws from SHAKE-256, normalized)."""
    raw = hashlib.shake_256(f"{seed}\0{model}\0{text}".encode("utf-8", "surrogatepass"))
    values = struct.unpack(f"<{dimensions}h", raw.digest(2 * dimensions))
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]

