"""The public Python surface is exactly what ``__all__`` says (HTTPX-style)."""

from __future__ import annotations

import ciyuan


def test_exported_members() -> None:
    exported = {name for name in dir(ciyuan) if not name.startswith("_")}
    assert set(ciyuan.__all__) - {"__version__"} <= exported
    for name in ciyuan.__all__:
        assert getattr(ciyuan, name) is not None


def test_count_returns_an_immutable_measurement() -> None:
    import dataclasses

    import pytest

    result = ciyuan.count("你好，世界", model="gpt-4o")
    assert isinstance(result, ciyuan.Measurement)
    assert result.method == "counted" and result.native_tokens == result.standard_tokens
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.native_tokens = 0  # type: ignore[misc]
