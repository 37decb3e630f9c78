"""Several web processes share ``users.info`` answers through the database: one lookup per person
between them, not one per process."""

from __future__ import annotations

from adapters.slack.client import make_web_client
from adapters.slack.profiles import Profile, Profiles, SqlProfileCache
from storage.database import make_engine
from storage.migrate import upgrade
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack


async def test_three_processes_ask_slack_once_per_person(db_url):
    upgrade(make_engine(db_url))
    slack = await FakeSlack().start()
    try:
        client = make_web_client(BOT_TOKEN, base_url=slack.api_url)
        processes = [Profiles(shared=SqlProfileCache(make_engine(db_url))) for _ in range(3)]  # own engines
        people = ["U0AAA001", "U0BBB002", "U0CCC003"]
        for profiles in processes:
            for user in people:
                got = await profiles.get(client, TEAM, user, wait=5)
                assert got.display_name
        assert len(slack.calls_to("users.info")) == len(people)
        assert await processes[2].get(client, TEAM, "U0AAA001", wait=5) == Profile(
            "Dr Asha Patel", "asha.patel@nhs.net"
        )
    finally:
        await slack.close()


async def test_a_stale_shared_answer_is_asked_again(db_url):
    from datetime import UTC, datetime, timedelta

    upgrade(make_engine(db_url))
    slack = await FakeSlack().start()
    try:
        client = make_web_client(BOT_TOKEN, base_url=slack.api_url)
        clock = [datetime(2026, 9, 7, tzinfo=UTC)]
        first = Profiles(shared=SqlProfileCache(make_engine(db_url), ttl=60, now=lambda: clock[0]))
        await first.get(client, TEAM, "U0AAA001", wait=5)
        clock[0] += timedelta(seconds=61)
        second = Profiles(shared=SqlProfileCache(make_engine(db_url), ttl=60, now=lambda: clock[0]))
        await second.get(client, TEAM, "U0AAA001", wait=5)
        assert len(slack.calls_to("users.info")) == 2
    finally:
        await slack.close()
