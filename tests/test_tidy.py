"""House rules over the source tree (STYLE.md, SPEC §5)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ciyuan"
MONEY_PATHS = ("price", "ledger", "billing", "invoice", "reconcile", "core/money.py",
               "core/usage.py")
MAX_MODULE_LINES = 800


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_there_are_modules() -> None:
    assert len(_modules()) > 10


def test_no_module_over_800_lines() -> None:
    too_long = {str(p.relative_to(SRC)): n for p in _modules()
                if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not too_long


def test_no_float_in_money_packages() -> None:
    offenders = []
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(MONEY_PATHS):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if re.search(r"\bfloat\(", line):
                    offenders.append(f"{rel}:{number}")
    assert not offenders


def test_no_global_statements() -> None:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text("utf-8"))
        offenders += [
            f"{path.name}:{n.lineno}" for n in ast.walk(tree) if isinstance(n, ast.Global)
        ]
    assert not offenders


def test_no_writes_to_os_environ() -> None:
    pattern = re.compile(
        r"os\.environ\s*\[[^\]]+\]\s*=|os\.environ\.(update|setdefault|pop|clear)\(|os\.putenv\("
        r"|del\s+os\.environ"
    )
    offenders = [
        str(p.relative_to(SRC)) for p in _modules() if pattern.search(p.read_text("utf-8"))
    ]
    assert not offenders


def test_every_package_says_what_it_owns() -> None:
    for init in SRC.rglob("__init__.py"):
        tree = ast.parse(init.read_text("utf-8"))
        assert ast.get_docstring(tree), f"{init.relative_to(SRC)} needs a docstring"
