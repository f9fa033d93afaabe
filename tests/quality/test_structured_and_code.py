"""Test vectors of the JSON scorer and of code run in the sandbox: passing and failing tests,
a runaway program killed, memory and output bounded, network and subprocesses refused."""

from __future__ import annotations

import socket
import time

import pytest

from ciyuan.quality import get_scorer
from ciyuan.quality.code import OUTPUT_BYTES, run_python
from ciyuan.quality.structured import extract_json

SCHEMA = {"type": "object", "required": ["name", "amount"],
          "properties": {"name": {"type": "string"}, "amount": {"type": "number"}}}


def test_json_extraction_and_fields() -> None:
    assert extract_json('Here:\n```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('Result {"a": [1, 2]} done') == {"a": [1, 2]}
    json_scorer = get_scorer("json")
    ref = {"schema": SCHEMA, "fields": {"name": "Acme", "amount": 12.5}}
    assert json_scorer.score('{"name": "Acme", "amount": 12.5}', ref).value == 1.0
    half = json_scorer.score('{"name": "Acme", "amount": 13}', ref)
    assert half.value == 0.5 and not half.passed
    bad = json_scorer.score('{"name": "Acme"}', ref)
    assert bad.value == 0.0 and "amount" in bad.detail  # the schema wants it
    assert json_scorer.score("no json at all", ref).detail == "no JSON in the answer"
    nested = {"fields": {"customer.name": "Li Wei", "customer.city": "杭州"}}
    assert json_scorer.score('{"customer": {"name": "Li Wei", "city": "杭州"}}', nested).passed


SOLUTION = "```python\ndef add(a, b):\n    return a + b\n```"


def test_code_passes_and_fails() -> None:
    code = get_scorer("code")
    assert code.score(SOLUTION, "assert add(2, 3) == 5").passed
    failed = code.score(SOLUTION, "assert add(2, 3) == 6, 'add is wrong'")
    assert not failed.passed and "add is wrong" in failed.detail
    assert not code.score("def add(a, b) return", "assert add(1, 1) == 2").passed  # syntax


def test_a_runaway_program_is_killed() -> None:
    started = time.monotonic()
    result = run_python("while True:\n    pass\n", "", wall_s=3)
    assert not result.passed
    assert time.monotonic() - started < 15  # CPU limit (5 s) or wall limit (3 s), not forever
    assert result.timed_out or result.returncode != 0


def test_memory_and_output_are_bounded() -> None:
    hog = run_python("data = bytearray(2 * 1024 ** 3)\n", "")
    assert not hog.passed and "MemoryError" in hog.stderr
    chatty = run_python("print('x' * (4 * 1024 * 1024))\n", "")
    assert not chatty.passed  # the file-size limit stops it
    assert len(chatty.stdout) <= 4096 and OUTPUT_BYTES < 4 * 1024 * 1024


def test_network_and_subprocesses_are_refused() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        result = run_python(
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n", "")
        assert not result.passed and "not allowed" in result.stderr
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever reached us
    spawn = run_python("import subprocess\nsubprocess.run(['true'])\n", "")
    assert not spawn.passed and "subprocess" in spawn.stderr
    shell = run_python("import os\nos.system('true')\n", "")
    assert not shell.passed and "os.system" in shell.stderr
