"""Suite files: a good one loads; every malformed one is refused naming file, line, field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ciyuan.quality.suites import SuiteFormatError, load_suite

HEADER = {"suite": "mini", "version": "1"}
ITEMS = [
    {"id": "m1", "task": "math", "language": "en", "prompt": "17 × 23?", "reference": "391",
     "scorer": "numeric"},
    {"id": "e1", "task": "extraction", "language": "zh", "prompt": "发票金额是多少？",
     "reference": {"fields": {"amount": 120}}, "scorer": "json", "options": {"threshold": 0.5}},
]


def _write(tmp_path: Path, lines: list[object]) -> Path:
    path = tmp_path / "suite.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
                              for x in lines) + "\n", "utf-8")
    return path


def test_a_good_suite_loads(tmp_path: Path) -> None:
    suite = load_suite(_write(tmp_path, [HEADER, *ITEMS]))
    assert (suite.name, suite.version, len(suite.items)) == ("mini", "1", 2)
    assert suite.items[1].options == {"threshold": 0.5}
    assert set(suite.by_task()) == {"math", "extraction"}


@pytest.mark.parametrize(("change", "line", "field", "words"), [
    ({"task": "poetry"}, 3, "task", "is not one of"),
    ({"language": "fr"}, 3, "language", "is not one of"),
    ({"scorer": "bleu"}, 3, "scorer", "unknown scorer"),
    ({"options": {"nope": 1}}, 3, "options", "not accepted by json"),
    ({"prompt": ""}, 3, "prompt", "non-empty string"),
    ({"id": "m1"}, 3, "id", "already the id of line 2"),
    ({"colour": "red"}, 3, "colour", "unknown"),
])
def test_a_bad_item_names_file_line_and_field(tmp_path: Path, change: dict[str, object],
                                              line: int, field: str, words: str) -> None:
    path = _write(tmp_path, [HEADER, ITEMS[0], {**ITEMS[1], **change}])
    with pytest.raises(SuiteFormatError) as caught:
        load_suite(path)
    assert caught.value.message.startswith(f"{path}:{line}: field {field!r}: ")
    assert words in caught.value.message
    assert caught.value.code == "quality-suite-invalid"


def test_broken_lines_and_headers(tmp_path: Path) -> None:
    with pytest.raises(SuiteFormatError, match=r":2: field '\*': not JSON"):
        load_suite(_write(tmp_path, [HEADER, '{"id": "x",']))
    with pytest.raises(SuiteFormatError, match="header"):
        load_suite(_write(tmp_path, [ITEMS[0]]))
    missing = {k: v for k, v in ITEMS[0].items() if k != "reference"}
    with pytest.raises(SuiteFormatError, match="'reference': is required"):
        load_suite(_write(tmp_path, [HEADER, missing]))
    with pytest.raises(SuiteFormatError, match="no items"):
        load_suite(_write(tmp_path, [HEADER]))
    with pytest.raises(SuiteFormatError, match="cannot read"):
        load_suite(tmp_path / "absent.jsonl")
