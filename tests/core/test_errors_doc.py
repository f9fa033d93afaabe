"""docs/errors.md lists every registered error code, and nothing else."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import ciyuan
from ciyuan.core.errors import CiyuanError, all_error_codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def _import_everything() -> None:
    for module in pkgutil.walk_packages(ciyuan.__path__, "ciyuan."):
        importlib.import_module(module.name)


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    _import_everything()
    codes = all_error_codes()
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \| `(\w+)` \|", DOC.read_text(), re.M))
    assert {code for code, _ in documented} == set(codes)
    for code, name in documented:
        assert codes[code].__name__ == name, code


def test_codes_are_kebab_case_and_messages_are_kept() -> None:
    _import_everything()
    for code, cls in all_error_codes().items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code
        assert issubclass(cls, CiyuanError)
        assert cls.summary and cls.summary != CiyuanError.summary or cls is CiyuanError
    error = all_error_codes()["unknown-model"]("unknown model 'x'", model="x")
    assert error.to_dict() == {"code": "unknown-model", "message": "unknown model 'x'",
                               "model": "x"}
