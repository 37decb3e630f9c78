from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from adapters.slack.settings import Mode, SlackSettings, SlackSettingsError

BOT = "xoxb-1-2-abc"
APP = "xapp-1-A1-abc"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
KEY = Fernet.generate_key().decode()


def test_socket_mode() -> None:
    s = SlackSettings.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP})
    assert s.mode is Mode.SOCKET and s.bot_token == BOT and s.app_token == APP


def test_http_single_workspace() -> None:
    s = SlackSettings.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": SECRET})
    assert s.mode is Mode.HTTP


def test_oauth() -> None:
    env = {
        "SLACK_CLIENT_ID": "123.456",
        "SLACK_CLIENT_SECRET": "cs",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_TOKEN_ENCRYPTION_KEY": KEY,
    }
    s = SlackSettings.from_env(env)
    assert s.mode is Mode.OAUTH and s.client_id == "123.456"


def test_secrets_stay_out_of_repr() -> None:
    env = {"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP, "SLACK_SIGNING_SECRET": SECRET}
    text = repr(SlackSettings.from_env(env))
    assert BOT not in text and APP not in text and SECRET not in text


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, ["SLACK_BOT_TOKEN"]),
        ({"SLACK_BOT_TOKEN": BOT}, ["SLACK_SIGNING_SECRET"]),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": SECRET},
            ["SLACK_BOT_TOKEN", "xoxb-"],
        ),
        ({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": "xoxb-wrong"}, ["SLACK_APP_TOKEN", "xapp-"]),
        ({"SLACK_SIGNING_SECRET": SECRET}, ["SLACK_BOT_TOKEN"]),
        ({"SLACK_BOT_TOKEN": BOT, "SLACK_CLIENT_ID": "1.2"}, ["SLACK_BOT_TOKEN", "SLACK_CLIENT_ID"]),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": SECRET}, ["SLACK_CLIENT_SECRET"]),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": SECRET},
            ["SLACK_TOKEN_ENCRYPTION_KEY"],
        ),
        (
            {
                "SLACK_CLIENT_ID": "1.2",
                "SLACK_CLIENT_SECRET": "c",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_TOKEN_ENCRYPTION_KEY": "not-a-key",
            },
            ["SLACK_TOKEN_ENCRYPTION_KEY", "Fernet"],
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_APP_TOKEN": APP},
            ["SLACK_APP_TOKEN", "SLACK_CLIENT_ID"],
        ),
        (
            {"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP, "SLACK_TOKEN_ENCRYPTION_KEY": KEY},
            ["SLACK_TOKEN_ENCRYPTION_KEY"],
        ),
    ],
)
def test_bad_combinations_name_the_setting(env: dict[str, str], names: list[str]) -> None:
    with pytest.raises(SlackSettingsError) as caught:
        SlackSettings.from_env(env)
    for name in names:
        assert name in str(caught.value)
    for value in env.values():
        if value.startswith(("xoxb-", "xapp-")) or value in (SECRET, KEY):
            assert value not in str(caught.value)


def test_is_configured() -> None:
    assert not SlackSettings.is_configured({"DATABASE_URL": "sqlite://"})
    assert SlackSettings.is_configured({"SLACK_BOT_TOKEN": BOT})


def test_the_workspace_rate_is_the_slack_messengers_declared_pace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.serve import configure_platforms
    from bot.settings import SettingsError
    from storage.database import make_engine

    db = make_engine(f"sqlite:///{tmp_path / 'rate.db'}")
    env = {"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": SECRET}
    default = configure_platforms(env, db).messengers["slack"].capabilities.pacing
    tuned = (
        configure_platforms({**env, "BUDDY_SLACK_WORKSPACE_RATE": "40"}, db)
        .messengers["slack"]
        .capabilities.pacing
    )
    rate = [limit.count / limit.seconds for limit in tuned.per_workspace]
    assert rate == pytest.approx([40.0]) and [
        x.count / x.seconds for x in default.per_workspace
    ] == pytest.approx([5.0])
    assert [(x.count, x.seconds) for x in tuned.per_conversation] == [
        (1, 1.0)
    ]  # about one a second per channel
    for bad in ("fast", "0", "-3", "inf"):
        with pytest.raises(SettingsError, match="BUDDY_SLACK_WORKSPACE_RATE must be a positive number"):
            configure_platforms({**env, "BUDDY_SLACK_WORKSPACE_RATE": bad}, db)
    db.dispose()
