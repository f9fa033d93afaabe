"""Judge rubrics: shipped, versioned, rendered, and their verdicts parsed strictly."""

from __future__ import annotations

import pytest

from ciyuan.quality import get_scorer, safe_score
from ciyuan.quality.rubrics import (
    MAX_FIELD_CHARS,
    RUBRICS,
    JudgeVerdictError,
    UnknownRubricError,
    load_rubric,
    parse_verdict,
)
from ciyuan.quality.suites import SuiteFormatError, load_suite


@pytest.mark.parametrize("ref", RUBRICS)
def test_every_shipped_rubric_loads_and_names_itself(ref: str) -> None:
    rubric = load_rubric(ref)
    assert rubric.ref == ref == load_rubric(ref.split("@")[0]).ref
    fields = ({"answer_a": "x", "answer_b": "y"} if rubric.kind == "pairwise"
              else {"answer": "x", "reference": "r"})
    text = rubric.render(question="q $HOME {x}", **fields)
    assert text.startswith(f"Rubric: ciyuan/{ref}\n") and "q $HOME {x}" in text
    assert "VERDICT" in text


def test_render_needs_its_fields_and_cuts_long_ones() -> None:
    rubric = load_rubric("grade-reference")
    with pytest.raises(Exception, match="needs reference"):
        rubric.render(question="q", answer="a")
    text = rubric.render(question="q", answer="z" * (MAX_FIELD_CHARS + 50), reference="r")
    assert "z" * MAX_FIELD_CHARS in text and "z" * (MAX_FIELD_CHARS + 1) not in text


def test_unknown_rubric() -> None:
    for name in ("nope", "grade-reference@9", "../x@1", "grade-reference@x"):
        with pytest.raises(UnknownRubricError, match="use one of"):
            load_rubric(name)


@pytest.mark.parametrize(("reply", "verdict"), [
    ("Looks right.\nVERDICT: PASS", "PASS"),
    ("VERDICT: FAIL\n\n", "FAIL"),
    ("  VERDICT:   PASS  ", "PASS"),
])
def test_strict_single_verdicts(reply: str, verdict: str) -> None:
    assert parse_verdict(load_rubric("grade-reference"), reply) == verdict


@pytest.mark.parametrize("reply", [
    "", "PASS", "verdict: pass", "VERDICT: PASS.", "VERDICT: **PASS**", "VERDICT: A",
    "VERDICT: PASS\nactually no", "VERDICT: FAIL\nVERDICT: PASS", "The verdict is PASS",
])
def test_anything_looser_is_a_verdict_error(reply: str) -> None:
    with pytest.raises(JudgeVerdictError, match="does not end with one line"):
        parse_verdict(load_rubric("grade-reference"), reply)


def test_pairwise_verdicts() -> None:
    rubric = load_rubric("pairwise")
    assert [parse_verdict(rubric, f"x\nVERDICT: {v}") for v in ("A", "B", "TIE")] == [
        "A", "B", "TIE"]
    with pytest.raises(JudgeVerdictError):
        parse_verdict(rubric, "VERDICT: PASS")


def test_judge_scorer_is_not_scorable_alone_and_checks_its_rubric(tmp_path: object) -> None:
    scorer = get_scorer("judge", rubric="grade-answer")
    score = safe_score(scorer, "answer", "reference")
    assert score.error and "--judge MODEL" in score.error  # an error, never a zero score
    from pathlib import Path

    suite = Path(str(tmp_path)) / "s.jsonl"
    suite.write_text('{"suite": "s", "version": "1"}\n{"id": "a", "task": "qa", "language": '
                     '"en", "prompt": "p", "reference": "r", "scorer": "judge", "options": '
                     '{"rubric": "pairwise"}}\n')
    with pytest.raises(SuiteFormatError, match="line 2|:2:"):
        load_suite(suite)
