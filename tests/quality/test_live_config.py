"""``[quality.live_judge]``: off by default, the documented example accepted, bad settings
refused with the key named; sampling by record id; the question and answer of a call."""

from __future__ import annotations

import re
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from ciyuan.core.errors import ConfigError
from ciyuan.quality.live import call_text, is_sampled, live_judge_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
ENV = {"CIYUAN_JUDGE_KEY": "cy-judge"}


def _documented() -> dict[str, object]:
    text = DOC.read_text("utf-8")
    block = re.search(r"```toml\n(\[quality\.live_judge\].*?)```", text, re.S)
    assert block is not None
    return tomllib.loads(block.group(1), parse_float=Decimal)


def test_off_by_default_and_the_documented_example() -> None:
    assert not live_judge_config({}, {}).enabled
    assert not live_judge_config({"live_judge": {"share": 0}}, {}).enabled
    section = _documented()["quality"]
    assert isinstance(section, dict)
    config = live_judge_config(section, ENV)
    assert (config.share, config.judge, config.rubric, config.key, config.queue) == (
        0.02, "gpt-4o", "grade-answer@1", "cy-judge", 1000)


@pytest.mark.parametrize(("raw", "env", "field"), [
    ({"share": 1.5, "judge": "m"}, ENV, "quality.live_judge.share"),
    ({"share": "lots", "judge": "m"}, ENV, "quality.live_judge.share"),
    ({"share": 0.1}, ENV, "quality.live_judge.judge"),
    ({"share": 0.1, "judge": "m"}, {}, "CIYUAN_JUDGE_KEY"),
    ({"share": 0.1, "judge": "m", "queue": 0}, ENV, "quality.live_judge.queue"),
    ({"share": 0.1, "judge": "m", "rubric": "grade-reference"}, ENV,
     "quality.live_judge.rubric"),
    ({"share": 0.1, "judge": "m", "rate": 2}, ENV, "quality.live_judge.rate"),
])
def test_bad_settings_name_the_key(raw: dict[str, object], env: dict[str, str],
                                   field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        live_judge_config({"live_judge": raw}, env)
    assert caught.value.details["field"] == field


def test_sampling_follows_the_record_id() -> None:
    ids = [f"ur-{uuid.UUID(int=n).hex}" for n in range(4000)]
    assert not any(is_sampled(i, 0.0) for i in ids) and all(is_sampled(i, 1.0) for i in ids)
    picked = [i for i in ids if is_sampled(i, 0.25)]
    assert picked == [i for i in ids if is_sampled(i, 0.25)]  # reproducible
    assert set(picked) <= {i for i in ids if is_sampled(i, 0.5)}  # nested shares
    assert abs(len(picked) - 1000) <= 1.96 * (4000 * 0.25 * 0.75) ** 0.5


def test_call_text_of_both_dialects() -> None:
    body = {"messages": [{"role": "user", "content": "first"}, {"role": "assistant",
            "content": "x"}, {"role": "user", "content": [{"type": "text", "text": "why?"}]}]}
    assert call_text(body, {"choices": [{"message": {"content": "because"}}]}) == (
        "why?", "because")
    assert call_text(body, {"content": [{"type": "text", "text": "因为"}]}) == ("why?", "因为")
    assert call_text(body, {"choices": [{"message": {"content": None}}]}) is None
    assert call_text({"prompt": "x"}, {"choices": []}) is None
