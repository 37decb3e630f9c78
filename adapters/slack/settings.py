"""Slack settings from the environment, validated as a whole.

Three ways to run, chosen by which variables are set:

- **Socket Mode** (development, or no public URL): ``SLACK_APP_TOKEN`` (``xapp-``) and
  ``SLACK_BOT_TOKEN`` (``xoxb-``). ``SLACK_SIGNING_SECRET`` is optional: Socket Mode requests are
  not signed.
- **HTTP, one workspace**: ``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET``.
- **HTTP, OAuth multi-workspace**: ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET``,
  ``SLACK_SIGNING_SECRET`` and ``SLACK_TOKEN_ENCRYPTION_KEY`` (a Fernet key: tokens are
  encrypted at rest). No ``SLACK_BOT_TOKEN``: each workspace's token comes from its install.

Anything else (a half-configured OAuth, a bot token *and* a client id, a token of the wrong kind)
raises :class:`SlackSettingsError` naming the variable. Secrets never appear in ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

# Keep in step with manifest.yml (a test checks): the scopes an OAuth install asks for.
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "im:write",
    "mpim:write",
    "im:history",
    "mpim:history",
    "users:read",
    "users:read.email",
    "channels:read",
    "channels:manage",
    "groups:write",
    "files:read",
    "files:write",
)

VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_TOKEN_ENCRYPTION_KEY",
)


class SlackSettingsError(ValueError):
    """A Slack setting is missing, malformed or contradicts another; the message names it."""


class Mode(Enum):
    SOCKET = "socket"
    HTTP = "http"
    OAUTH = "oauth"


@dataclass(frozen=True)
class SlackSettings:
    mode: Mode
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    token_encryption_key: str = field(default="", repr=False)
    redirect_uri: str = ""  # SLACK_REDIRECT_URI, optional: Slack uses the manifest's when empty
    api_base_url: str = ""  # SLACK_API_URL, optional: tests and proxies only

    @staticmethod
    def is_configured(env: Mapping[str, str]) -> bool:
        """True when any Slack variable is set (a Teams-only deployment sets none)."""
        return any(env.get(name, "").strip() for name in VARIABLES)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        get = {
            name: env.get(name, "").strip() for name in (*VARIABLES, "SLACK_REDIRECT_URI", "SLACK_API_URL")
        }
        bot, secret, app = get["SLACK_BOT_TOKEN"], get["SLACK_SIGNING_SECRET"], get["SLACK_APP_TOKEN"]
        client_id, client_secret = get["SLACK_CLIENT_ID"], get["SLACK_CLIENT_SECRET"]
        key = get["SLACK_TOKEN_ENCRYPTION_KEY"]

        if not any(get[name] for name in VARIABLES):
            raise SlackSettingsError(
                "Slack is not configured: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or "
                "SLACK_SIGNING_SECRET (HTTP), or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET for OAuth installs"
            )
        if bot and not bot.startswith("xoxb-"):
            raise SlackSettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if app and not app.startswith("xapp-"):
            raise SlackSettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        common = {"redirect_uri": get["SLACK_REDIRECT_URI"], "api_base_url": get["SLACK_API_URL"]}

        if client_id or client_secret:
            if bot:
                raise SlackSettingsError(
                    "SLACK_BOT_TOKEN contradicts SLACK_CLIENT_ID: with OAuth each workspace's token comes "
                    "from its install; unset one of them"
                )
            if app:
                raise SlackSettingsError(
                    "SLACK_APP_TOKEN contradicts SLACK_CLIENT_ID: OAuth installs need HTTP mode "
                    "(a public /slack/oauth_redirect); unset SLACK_APP_TOKEN"
                )
            for name, value in (
                ("SLACK_CLIENT_ID", client_id),
                ("SLACK_CLIENT_SECRET", client_secret),
                ("SLACK_SIGNING_SECRET", secret),
                ("SLACK_TOKEN_ENCRYPTION_KEY", key),
            ):
                if not value:
                    raise SlackSettingsError(
                        f"{name} is required for OAuth installs (SLACK_CLIENT_ID is set)"
                    )
            _check_fernet_keys(key)
            return cls(
                Mode.OAUTH,
                signing_secret=secret,
                client_id=client_id,
                client_secret=client_secret,
                token_encryption_key=key,
                **common,
            )

        if key:
            raise SlackSettingsError(
                "SLACK_TOKEN_ENCRYPTION_KEY is only used with OAuth installs (SLACK_CLIENT_ID); "
                "a single-workspace SLACK_BOT_TOKEN is not stored, so unset it"
            )
        if not bot:
            raise SlackSettingsError("SLACK_BOT_TOKEN is required (or SLACK_CLIENT_ID for OAuth installs)")
        if app:
            return cls(Mode.SOCKET, bot_token=bot, signing_secret=secret, app_token=app, **common)
        if not secret:
            raise SlackSettingsError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return cls(Mode.HTTP, bot_token=bot, signing_secret=secret, **common)


def workspace_rate(env: Mapping[str, str]) -> float:
    """``BUDDY_SLACK_WORKSPACE_RATE``: Slack messages a second across one workspace, for every
    worker together (shared through PostgreSQL; one worker's own pace on SQLite). Default 5."""
    from adapters.slack.messenger import DEFAULT_WORKSPACE_RATE

    value = env.get("BUDDY_SLACK_WORKSPACE_RATE", "").strip()
    if not value:
        return DEFAULT_WORKSPACE_RATE
    try:
        rate = float(value)
    except ValueError:
        rate = 0.0
    if not 0 < rate < float("inf"):
        raise SlackSettingsError(
            f"BUDDY_SLACK_WORKSPACE_RATE must be a positive number of messages per second, not {value!r}; "
            f"set it to {DEFAULT_WORKSPACE_RATE:g} (the default) or unset it"
        )
    return rate


def _check_fernet_keys(keys: str) -> None:
    from cryptography.fernet import Fernet

    try:
        for key in [k.strip() for k in keys.split(",")]:
            Fernet(key.encode())
    except (ValueError, TypeError):
        raise SlackSettingsError(
            "SLACK_TOKEN_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from None
