"""Names and text shown exactly as typed, escaped once, on both platforms.

The introduction (and the other views that carry names) is made by the real engine through the
chat harness, then rendered by the Slack and Teams renderers. Golden files hold the rendered views;
the assertions read them back as each client would (Slack: ``&amp; &lt; &gt;`` only; Teams:
CommonMark backslash escapes and HTML entities) and find the name exactly as typed.
Regenerate after an intended change with ``BUDDY_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest

from adapters.slack.render_blocks import render_message
from adapters.teams.messenger import message_activity
from tests.engine.helpers import ADMIN, cohort, register

GOLDEN = Path(__file__).parent / "golden"
NAMES = {
    "U1": "Jane Smith (she/her) *bold* _it_ [x](https://e.vil) <b> & ~s~ \\ `tick`",
    "U2": "Zoë 👩‍⚕️ أحمد שלום",
}


def introduced(chat):  # type: ignore[no-untyped-def]
    cohort(chat)
    register(chat, "U1", NAMES["U1"])
    register(chat, "U2", NAMES["U2"], "general_manager")
    chat.say(ADMIN, "match preview")
    preview = chat.outcomes[-1] if hasattr(chat, "outcomes") else None
    chat.say(ADMIN, "match confirm")
    chat.deliver()
    [intro] = [p.message for p in chat.messenger.seen("U1") if "buddies" in p.text.lower()][:1]
    return intro, preview


def slack_visible(view: object) -> str:
    """What a Slack client shows: mrkdwn with only &, < and > escaped."""
    texts = re.findall(r'"text": "((?:[^"\\]|\\.)*)"', json.dumps(view, ensure_ascii=False))
    return html.unescape(" ".join(json.loads(f'"{t}"') for t in texts))


def teams_visible(card: object) -> str:
    """What Teams shows: CommonMark backslash escapes undone, then HTML entities."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "summary"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", " ".join(found)))


def check_golden(name: str, data: object) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("BUDDY_UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{name} changed; regenerate with BUDDY_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_the_introduction_shows_every_name_as_typed(chat, platform):
    intro, _ = introduced(chat)
    rendered = render_message(intro) if platform == "slack" else message_activity(intro).serialize()
    check_golden(f"introduction_{platform}", rendered)
    visible = slack_visible(rendered) if platform == "slack" else teams_visible(rendered)
    for name in NAMES.values():
        assert name in visible, (name, visible)
        assert f"Meet your buddy: {name}" in visible or name == NAMES["U2"]  # the notification's words too
    assert "\\(" not in visible and "\\*" not in visible
    assert "https://e.vil|" not in visible  # a name never becomes a link


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_user_text_can_not_ping_or_link_on_slack(chat, platform):
    intro, _ = introduced(chat)
    if platform == "slack":
        raw = json.dumps(render_message(intro), ensure_ascii=False)
        assert "<b>" not in raw and "&lt;b&gt;" in raw  # & < > escaped once, nothing else
        assert "&amp;amp;" not in raw
    else:
        raw = json.dumps(message_activity(intro).serialize(), ensure_ascii=False)
        assert "\\\\\\\\(" not in raw  # one backslash before ( in the markdown, not two


def views_with_names(chat):  # type: ignore[no-untyped-def]
    """Other views that carry the names: the match preview, a buddy's status and Home."""
    from conversations.core.interactions import HomeOpened, Reply, ShowHome

    cohort(chat)
    register(chat, "U1", NAMES["U1"])
    register(chat, "U2", NAMES["U2"], "general_manager")
    preview = chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.deliver()
    status = chat.say("U2", "status")
    home = chat.engine.handle(HomeOpened(chat.actor("U2")))
    assert isinstance(preview, Reply) and isinstance(status, Reply) and isinstance(home, ShowHome)
    return {"preview": preview.message, "status": status.message}, home.home


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_other_views_show_names_as_typed(chat, platform):
    from adapters.slack.render_blocks import render_home
    from adapters.teams.render_cards import home_card

    messages, home = views_with_names(chat)
    for view, message in messages.items():
        rendered = render_message(message) if platform == "slack" else message_activity(message).serialize()
        check_golden(f"{view}_{platform}", rendered)
        visible = slack_visible(rendered) if platform == "slack" else teams_visible(rendered)
        expected = [NAMES["U1"]] if view == "status" else list(NAMES.values())
        for name in expected:
            assert name in visible, (view, name, visible)
    rendered_home = render_home(home) if platform == "slack" else home_card(home)
    visible = slack_visible(rendered_home) if platform == "slack" else teams_visible(rendered_home)
    assert NAMES["U1"] in visible, visible
