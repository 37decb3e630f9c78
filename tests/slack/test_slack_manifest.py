"""manifest.yml against Slack's own app manifest schema, and against what the adapter uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_validates_against_official_schema(manifest: dict) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"Slack manifest schema not found at {SCHEMA}")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(manifest)


def test_manifest_declares_what_the_adapter_needs(manifest: dict) -> None:
    features = manifest["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    (command,) = features["slash_commands"]
    assert command["command"] == "/buddy" and command["usage_hint"]
    assert command["should_escape"] is True  # payloads.normalise_command_text expects <@U..|..>
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_home_opened", "member_joined_channel"} <= events
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "mpim:write", "im:history", "mpim:history"} <= scopes
    # least privilege: nothing that reads or writes public channels beyond membership events and
    # adding a member who asks to `join #channel` (channels:manage, groups:write: conversations.invite)
    assert {"channels:manage", "groups:write"} <= scopes
    assert not scopes & {
        "channels:history",
        "chat:write.public",
        "groups:history",
        "admin",
    }


def test_oauth_scopes_match_the_manifest(manifest: dict) -> None:
    from adapters.slack.settings import BOT_SCOPES

    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
