from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.slack.client import make_web_client
from adapters.slack.messenger import SlackMessenger, static_token
from conversations.core.clock import FakeClock
from conversations.delivery.sender import Sender
from conversations.engine import Engine
from conversations.flows.bank import sync_builtin
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.slack.harness import SlackHarness
from tests.slack.round import COORDINATOR, Round


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack().start()
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def web_client(fake: FakeSlack, session: aiohttp.ClientSession):
    return make_web_client(base_url=fake.api_url, session=session)


@pytest.fixture
async def round_(fake: FakeSlack, web_client, db, clock: FakeClock) -> AsyncIterator[Round]:
    uow = SqlUnitOfWorkFactory(db)
    messenger = SlackMessenger(web_client, static_token(BOT_TOKEN))
    engine = Engine(
        uow,
        clock=clock,
        seed=7,
        capabilities={"slack": messenger.capabilities},
        admins=(f"{TEAM}:{COORDINATOR}",),
    )
    engine.run(sync_builtin)
    sender = Sender(uow, {"slack": messenger}, clock, on_failure=engine.delivery_failed)
    slack = await SlackHarness(fake, engine.handle).start()
    yield Round(slack, fake, sender, engine)
    await slack.close()
