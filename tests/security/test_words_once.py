"""Words said once and only where they apply: the answer form's word limit, the Teams help and
the Teams manifest."""

from __future__ import annotations

import json

from adapters.slack.render_blocks import render_modal
from adapters.teams.package import manifest
from adapters.teams.render_cards import form_card
from conversations.core.interactions import ShowForm
from conversations.core.refs import UserRef
from conversations.flows.overview import help_message
from tests.engine.helpers import ADMIN, matched_pair


def test_the_answer_form_says_its_word_limit_once_on_both_platforms(chat):
    matched_pair(chat)
    chat.say(ADMIN, "task send")
    outcome = chat.press_in_last("U1", "Respond")
    assert isinstance(outcome, ShowForm)
    for rendered in (render_modal(outcome.form), form_card(outcome.form)):
        shown = " ".join(_shown(rendered))
        assert shown.count("Up to 100 words.") == 1, shown


def _shown(node: object) -> list[str]:
    """The words a person sees: texts, labels and placeholders (not the data a button carries)."""
    if isinstance(node, dict):
        out = [v for k, v in node.items() if k in ("text", "label", "placeholder") and isinstance(v, str)]
        return out + [w for k, v in node.items() if k not in ("data", "private_metadata") for w in _shown(v)]
    if isinstance(node, list):
        return [w for v in node for w in _shown(v)]
    return []


def test_each_platform_s_help_speaks_only_of_itself(chat):
    def words(platform: str) -> str:
        message = chat.engine.run(lambda ctx: help_message(ctx, UserRef(platform, "T1", "U9")))
        return " ".join(getattr(b, "text", "") for b in message.blocks)

    assert (
        "Slack" not in words("teams") and "/buddy" not in words("teams") and "chat with me" in words("teams")
    )
    assert "Teams" not in words("slack") and "/buddy" in words("slack")


def test_the_teams_manifest_says_tasks_come_weekly():
    described = json.dumps(manifest("00000000-0000-0000-0000-000000000000")["description"])
    assert "fortnight" not in described and "every week" in described
