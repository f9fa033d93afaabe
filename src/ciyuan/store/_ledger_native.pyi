"""Types of the compiled batch engine and hash chain (src/ciyuan/store/_ledger_native.c)."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

RESULT_NAMES: tuple[str, ...]

def configure(results: tuple[Any, ...], statuses: tuple[Any, ...]) -> None: ...
def apply_chain(
    accounts: dict[str, Any], balances: dict[str, Any], transfers: dict[str, Any],
    pendings: dict[str, Any], batch: Sequence[Any], now_ns: int, seq: int, prev_hash: str,
    sink: Callable[[list[Any]], object] | None = None, every: int = 0,
) -> tuple[list[Any], list[Any], dict[str, tuple[int, int, int, int]],
           Mapping[str, tuple[str, int | None]], int, str]: ...
def copy_binary(rows: list[tuple[Any, ...]], layout: bytes) -> bytes: ...
