"""Fixtures for the operators' tests: Slack's fake and round (from tests/slack), and logging that is
put back as it was after a test reconfigures it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import QUIET_LOGGERS
from tests.slack.conftest import fake, round_, session, web_client  # noqa: F401 - fixtures, by name
from tests.teams.conftest import connector, graph  # noqa: F401 - fixtures, by name


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in (*QUIET_LOGGERS, "slack_sdk")}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
