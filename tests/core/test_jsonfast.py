"""jsonfast.loads parses exactly what json.loads parses, to the same values, and fails where
it fails with the same error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.core import jsonfast

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text())
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN (as their JSON texts)."""
    return json.dumps(a) == json.dumps(b)


@given(_values, st.booleans())
def test_documents_parse_to_the_standard_librarys_values(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _same(jsonfast.loads(text), json.loads(text))
    assert _same(jsonfast.loads(text.encode("utf-8", "surrogatepass")), json.loads(text))


@given(st.text(max_size=40) | st.binary(max_size=40))
def test_any_input_parses_or_fails_as_the_standard_library_does(data: str | bytes) -> None:
    try:
        expected = json.loads(data)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            jsonfast.loads(data)
        return
    assert _same(jsonfast.loads(data), expected)


@pytest.mark.parametrize("text", ['{"a": NaN}', "[1e400]", str(2**70), str(-(2**63) - 1),
                                  str(2**64), '"\\ud800"', "[" * 500 + "]" * 500,
                                  "[" * 1100 + "]" * 1100,
                                  '{"a": 1, "a": 2}', "1.2345678901234567890123"])
def test_where_orjson_differs_the_standard_library_decides(text: str) -> None:
    try:
        expected = json.loads(text)
    except RecursionError:  # the standard library's own limit: the same error
        with pytest.raises(RecursionError):
            jsonfast.loads(text)
        return
    assert _same(jsonfast.loads(text), expected)
