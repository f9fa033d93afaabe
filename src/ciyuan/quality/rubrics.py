"""Judge rubrics: versioned prompt files shipped in the package, and their strict verdicts.

A rubric is ``data/rubrics/<id>-v<version>.toml`` with an ``id``, an integer ``version``, a
``kind`` (``single``: one answer, verdict PASS or FAIL; ``pairwise``: two answers, verdict A,
B or TIE), a ``system`` message and a ``template`` whose ``$question``, ``$reference``,
``$answer`` (or ``$answer_a`` and ``$answer_b``) placeholders are filled per item. A changed
wording is a new file with a new version: every score names ``id@version``, so a score can
always be traced to the exact prompt that produced it.

The judge must end its reply with one line ``VERDICT: …``; :func:`parse_verdict` accepts
exactly that and nothing looser. A reply without it is a :class:`JudgeVerdictError` — an
error of the scorer, counted as such, never read as a zero.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from ciyuan.quality.errors import QualityError

__all__ = ["MAX_FIELD_CHARS", "RUBRICS", "JudgeVerdictError", "Rubric", "RubricKind",
           "UnknownRubricError", "load_rubric", "parse_verdict"]

RubricKind = Literal["single", "pairwise"]
#: The rubrics ciyuan ships, newest version of each (``load_rubric`` also takes ``id@N``).
RUBRICS = ("grade-reference@1", "grade-answer@1", "pairwise@1")
#: Characters of one filled-in field (question, answer …) put into a judge prompt: long
#: enough for any suite item or chat answer we grade, short enough that a runaway answer
#: cannot make a judge call cost more than a few thousand tokens.
MAX_FIELD_CHARS = 8000
_VERDICTS: dict[str, tuple[str, ...]] = {"single": ("PASS", "FAIL"),
                                         "pairwise": ("A", "B", "TIE")}
_FIELDS: dict[str, frozenset[str]] = {
    "single": frozenset({"question", "answer", "reference"}),
    "pairwise": frozenset({"question", "answer_a", "answer_b"})}
_VERDICT_LINE = re.compile(r"^\s*VERDICT:\s*([A-Z]+)\s*$")


class UnknownRubricError(QualityError):
    code = "quality-unknown-rubric"
    summary = ("No judge rubric has that id and version; the message lists the rubrics "
               "ciyuan ships (grade-reference, grade-answer, pairwise).")


class JudgeVerdictError(QualityError):
    code = "quality-judge-verdict"
    summary = ("The judge model's reply did not end with the rubric's verdict line; the item "
               "counts as a scorer error (not a zero). Use a stronger judge model or retry.")


@dataclass(frozen=True)
class Rubric:
    id: str
    version: int
    kind: RubricKind
    system: str
    template: str

    @property
    def ref(self) -> str:
        """``id@version``: what every score stores."""
        return f"{self.id}@{self.version}"

    @property
    def verdicts(self) -> tuple[str, ...]:
        return _VERDICTS[self.kind]

    def render(self, **fields: str) -> str:
        """The user message with ``fields`` filled in (each cut to MAX_FIELD_CHARS)."""
        needed = set(string.Template(self.template).get_identifiers())
        missing = sorted(needed - fields.keys())
        if missing:
            raise QualityError(f"rubric {self.ref} needs {', '.join(missing)}",
                               rubric=self.ref)
        return string.Template(self.template).substitute(
            {k: v[:MAX_FIELD_CHARS] for k, v in fields.items() if k in needed})


def _parse(text: str, where: str) -> Rubric:
    try:
        raw = tomllib.loads(text)
        rubric = Rubric(str(raw["id"]), int(raw["version"]), raw["kind"], str(raw["system"]),
                        str(raw["template"]))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise QualityError(f"rubric file {where} is malformed ({exc}); it needs id, version, "
                           "kind, system and template", rubric=where) from None
    if rubric.kind not in _FIELDS:
        raise QualityError(f"rubric file {where}: kind must be single or pairwise",
                           rubric=where)
    used = set(string.Template(rubric.template).get_identifiers())
    if not used <= _FIELDS[rubric.kind] or "question" not in used:
        raise QualityError(f"rubric file {where}: a {rubric.kind} template uses $question and "
                           f"some of {', '.join(sorted(_FIELDS[rubric.kind]))}", rubric=where)
    return rubric


def load_rubric(name: str) -> Rubric:
    """The shipped rubric ``name`` (``grade-reference`` = its newest version, or
    ``grade-reference@1``)."""
    rubric_id, _, version = name.partition("@")
    if not version:
        newest = [r for r in RUBRICS if r.partition("@")[0] == rubric_id]
        version = newest[0].partition("@")[2] if newest else "1"
    folder = resources.files("ciyuan.quality").joinpath("data", "rubrics")
    path = folder.joinpath(f"{rubric_id}-v{version}.toml")
    if not re.fullmatch(r"[a-z0-9-]{1,64}", rubric_id) or not version.isdigit() \
            or not path.is_file():
        raise UnknownRubricError(f"no judge rubric {name!r}; use one of {', '.join(RUBRICS)}",
                                 rubric=name)
    rubric = _parse(path.read_text("utf-8"), f"{rubric_id}-v{version}.toml")
    assert (rubric.id, rubric.version) == (rubric_id, int(version)), path
    return rubric


def parse_verdict(rubric: Rubric, reply: str) -> str:
    """The verdict of a judge's ``reply``: its last non-empty line must be exactly
    ``VERDICT: X`` with X one of the rubric's verdicts, and no other line may be a verdict."""
    lines = [line for line in reply.splitlines() if line.strip()]
    found = [m.group(1) for m in map(_VERDICT_LINE.match, lines) if m]
    last = _VERDICT_LINE.match(lines[-1]) if lines else None
    if last is None or len(found) != 1 or last.group(1) not in rubric.verdicts:
        shown = lines[-1][:80] if lines else "(empty reply)"
        raise JudgeVerdictError(
            f"judge reply to rubric {rubric.ref} does not end with one line "
            f"'VERDICT: {' | '.join(rubric.verdicts)}' (last line: {shown!r})",
            rubric=rubric.ref)
    return last.group(1)
