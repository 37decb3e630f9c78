from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests.security.live import ADMIN, LiveApp
from tests.slack.fake_slack import TEAM


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The running app with a cohort in it (so there are rows that must not change)."""
    app = LiveApp(str(tmp_path_factory.mktemp("live") / "buddy.db")).start()
    body = urlencode({"command": "/buddy", "text": "cohort create Alpha", "team_id": TEAM, "user_id": ADMIN,
                      "user_name": "admin", "channel_id": "D1", "trigger_id": "1.2.3"}).encode()  # fmt: skip
    answer = app.slack(body, "application/x-www-form-urlencoded")
    assert answer.status == 200 and b"Alpha" in answer.body, answer
    time.sleep(0.2)
    yield app
    app.close()
