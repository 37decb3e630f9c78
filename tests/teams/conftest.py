from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.teams import TeamsApp, TeamsSettings, build_teams
from adapters.teams.retry import RetryPolicy
from adapters.teams.settings import GraphSettings
from conversations.core.interactions import Interaction, NoReply, Outcome
from tests.teams.fake_teams import FakeConnector, FakeGraph

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "schemas"


def schema_path(name: str) -> Path:
    path = SCHEMAS / name
    if not path.exists():
        pytest.skip(
            f"official schema {name} not found in {SCHEMAS} (kept beside the repository, present in CI)"
        )
    return path


class FakeTime:
    """A clock the pacer and retries move instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class ScriptedEngine:
    """Stands in for ``Engine.handle``: records interactions, answers with a scripted outcome."""

    interactions: list[Interaction] = field(default_factory=list)
    answer: Callable[[Interaction], Outcome] = lambda _i: NoReply()

    def handle(self, interaction: Interaction) -> Outcome:
        self.interactions.append(interaction)
        return self.answer(interaction)


@dataclass
class Harness:
    teams: TeamsApp
    connector: FakeConnector
    server: TestServer
    engine: ScriptedEngine
    time: FakeTime

    @property
    def service_url(self) -> str:
        return self.connector.url

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.server.make_url("/api/messages"), json=activity, headers=headers or {}
            ) as response:
                text = await response.text()
                try:
                    body = await response.json(content_type=None) if text else None
                except ValueError:
                    body = text
                return response.status, body


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.server.start_server()
    yield fake
    await fake.server.close()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.server.start_server()
    yield fake
    await fake.server.close()


def graph_settings(graph: FakeGraph) -> GraphSettings:
    return GraphSettings(
        tenant_id="tenant-1",
        client_id="graph-client",
        client_secret="graph-secret",
        catalog_app_id="catalog-app-1",
        base_url=graph.base_url,
        login_url=graph.login_url,
    )


async def start_harness(db, connector: FakeConnector, settings: TeamsSettings) -> Harness:
    fake_time = FakeTime()
    teams = build_teams(
        settings,
        db,
        policy=RetryPolicy(attempts=4, base_delay=0.5),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        rng=random.Random(7),
        create_tables=True,
    )
    engine = ScriptedEngine()
    app = web.Application()
    teams.add_routes(app, engine.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return Harness(teams, connector, server, engine, fake_time)


@pytest.fixture
async def harness(db, connector: FakeConnector) -> AsyncIterator[Harness]:
    h = await start_harness(db, connector, TeamsSettings(dev_mode=True, service_url=connector.url))
    yield h
    await h.server.close()
