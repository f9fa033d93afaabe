from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from gateway_env import Env


@pytest.fixture()
async def env() -> AsyncIterator[Env]:
    e = Env()
    yield e
    await e.aclose()


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"
