"""Live-traffic judging, the pure part: settings, which calls are sampled, what a call's
judgement is, and how the question and answer are read off a chat call.

A configured share of completed chat calls is graded by a judge model (``ciyuan.gateway.
judging`` runs it, off the request path). Which calls: a call is sampled when the first 64
bits of the SHA-256 of its usage-record id, read as a fraction of 2^64, are below the share —
every record id carries 74 random bits, so each call is sampled independently with probability
``share``, and the decision can be re-derived from the id alone (an auditor can check which
calls should have been judged). Evaluation calls, judge calls among them, are never sampled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ciyuan.core.content import content_text
from ciyuan.core.errors import ConfigError

__all__ = ["DEFAULT_JUDGE_KEY_ENV", "DEFAULT_QUEUE", "MAX_QUEUE", "JudgeScore",
           "LiveJudgeConfig", "call_text", "is_sampled", "live_judge_config"]

#: Calls waiting for their judge at most, by default: a burst of ~1000 sampled calls is held,
#: beyond that new samples are dropped (and counted) rather than holding memory without bound.
DEFAULT_QUEUE = 1000
#: The largest queue the config may ask for (each waiting call holds its question and answer,
#: cut to the rubric's field bound: ~100k × 16 kB ≈ 1.6 GB at worst).
MAX_QUEUE = 100_000
#: The environment variable that holds the judge's own ciyuan API key, by default.
DEFAULT_JUDGE_KEY_ENV = "CIYUAN_JUDGE_KEY"


@dataclass(frozen=True)
class LiveJudgeConfig:
    """``[quality.live_judge]`` of ciyuan.toml."""

    share: float = 0.0  # 0 = off
    judge: str = ""
    rubric: str = "grade-answer"
    key: str = ""  # the judge's API key (read from ``key_env``), whose budget bounds judging
    queue: int = DEFAULT_QUEUE

    @property
    def enabled(self) -> bool:
        return self.share > 0


@dataclass(frozen=True)
class JudgeScore:
    """A judge's grade of one live call, linked to the call's usage record."""

    record_id: str
    tenant: str  # the judged call's tenant (whose data it is)
    judge: str
    rubric: str  # id@version
    value: float
    passed: bool
    judge_record_id: str  # the judge call's own usage record
    scored_at: dt.datetime
    error: str = ""  # the judge's reply had no valid verdict: not a zero

    def __post_init__(self) -> None:
        assert 0.0 <= self.value <= 1.0 and self.record_id and self.tenant


def is_sampled(record_id: str, share: float) -> bool:
    """Whether the call with usage record ``record_id`` is in the sample."""
    point = int.from_bytes(hashlib.sha256(record_id.encode("utf-8")).digest()[:8], "big")
    return point < share * 2 ** 64


def _fraction(value: object) -> float:
    try:
        share = Decimal(str(value))
    except InvalidOperation:
        share = Decimal("NaN")
    if not share.is_finite() or not 0 <= share <= 1:
        raise ConfigError(f"[quality.live_judge] share must be a number from 0 to 1, got "
                          f"{value!r}", field="quality.live_judge.share")
    return float(share)


def live_judge_config(section: Mapping[str, Any], env: Mapping[str, str]) -> LiveJudgeConfig:
    """The live-judge settings from ciyuan.toml's ``[quality]`` table (absent: off)."""
    raw = section.get("live_judge", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[quality.live_judge] must be a table", field="quality.live_judge")
    unknown = sorted(set(raw) - {"share", "judge", "rubric", "key_env", "queue"})
    if unknown:
        raise ConfigError(f"[quality.live_judge] has no key {unknown[0]!r}; it takes share, "
                          "judge, rubric, key_env, queue", field=f"quality.live_judge.{unknown[0]}")
    share = _fraction(raw.get("share", 0))
    if not share:
        return LiveJudgeConfig()
    judge, key_env = str(raw.get("judge", "")), str(raw.get("key_env", DEFAULT_JUDGE_KEY_ENV))
    key = env.get(key_env, "")
    if not judge or not key:
        raise ConfigError(f"[quality.live_judge] with share > 0 needs judge = \"MODEL\" and the "
                          f"judge's own API key in ${key_env} (create a tenant and key for it "
                          "and give it a budget: `ciyuan budgets set`)",
                          field="quality.live_judge.judge" if not judge else key_env)
    queue = raw.get("queue", DEFAULT_QUEUE)
    if not isinstance(queue, int) or not 1 <= queue <= MAX_QUEUE:
        raise ConfigError(f"[quality.live_judge] queue must be an integer 1..{MAX_QUEUE}",
                          field="quality.live_judge.queue")
    from ciyuan.quality.rubrics import load_rubric

    rubric = load_rubric(str(raw.get("rubric", "grade-answer")))
    if rubric.kind != "single" or "$reference" in rubric.template:
        raise ConfigError(f"[quality.live_judge] rubric {rubric.ref} needs a reference or two "
                          "answers; live calls have neither: use grade-answer",
                          field="quality.live_judge.rubric")
    return LiveJudgeConfig(share, judge, rubric.ref, key, queue)


def call_text(body: Mapping[str, Any], response: Mapping[str, Any]) -> tuple[str, str] | None:
    """(question, answer) of a chat call — the last user message and the reply's text, in
    OpenAI's or Anthropic's shape — or None when either is missing."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    users = [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
    question = content_text(users[-1].get("content")) if users else ""
    choices = response.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        message = choices[0].get("message")
        answer = content_text(message.get("content")) if isinstance(message, Mapping) else ""
    else:
        answer = content_text(response.get("content"))
    return (question, answer) if question.strip() and answer.strip() else None
