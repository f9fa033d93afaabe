"""A real sim-provider process on loopback, and the official SDKs pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from simhelpers import SEED

from ciyuan.sim import SimApp, SimConfig, build_app
from ciyuan.sim.process import SimProcess


@pytest.fixture(scope="session")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim") / "served.jsonl"


@pytest.fixture(scope="session")
def sim(sim_log: Path) -> Iterator[SimProcess]:
    with SimProcess(["--seed", str(SEED), "--log", str(sim_log)]) as process:
        yield process


@pytest.fixture()
def oai(sim: SimProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-sim", max_retries=0) as client:
        yield client


@pytest.fixture()
def claude(sim: SimProcess) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=sim.url, api_key="sk-sim", max_retries=0) as client:
        yield client


@pytest.fixture()
def app_factory(tmp_path: Path) -> Iterator[Any]:
    """Builds in-process apps (closing their logs afterwards)."""
    apps: list[SimApp] = []

    def make(**settings: Any) -> SimApp:
        app = build_app(SimConfig(**settings))
        apps.append(app)
        return app

    yield make
    for app in apps:
        asyncio.run(app.aclose())
