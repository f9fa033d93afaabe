"""How release values read in the report, the CLI and the dashboard."""

from __future__ import annotations

__all__ = ["format_value"]


def format_value(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, dict):
        return "; ".join(f"{amount} {currency}" for currency, amount in value.items()) or "0"
    return str(value)
