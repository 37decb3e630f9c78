"""Every card the bot can send validates against the official Adaptive Card 1.5 schema and
matches its golden file (``BUDDY_UPDATE_GOLDEN=1`` rewrites them after a deliberate change)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from adapters.teams.form_codec import decode_form
from adapters.teams.render_cards import (
    FORM_KEY,
    OPEN_FORM_KEY,
    form_card,
    home_card,
    message_card,
    open_form_card,
)
from adapters.teams.render_markup import escape_text, to_teams
from conversations.core.markup import escape
from tests.teams.conftest import schema_path
from tests.teams.views_catalogue import FORMS, HOME, MESSAGES, USER_TEXT

GOLDEN = Path(__file__).parent / "golden"
NAMES = {"bob": "Bob Jones"}


def all_cards() -> dict[str, dict]:
    cards = {f"message_{k}": message_card(m, NAMES) for k, m in MESSAGES.items()}
    cards |= {f"message_{k}_no_names": message_card(m) for k, m in MESSAGES.items() if k == "every_block"}
    cards |= {f"form_{k}": form_card(f) for k, f in FORMS.items()}
    cards |= {f"open_form_{k}": open_form_card(f) for k, f in FORMS.items()}
    errors = {"consent": "Please agree.", "name": "Too long.", "_form": "Registration has closed."}
    values = {
        "name": "Jane *J*",
        "interests": ("a", "c"),
        "consent": False,
        "role": "doctor",
        "start": "2025-03-01",
    }
    cards["form_every_field_with_errors"] = form_card(FORMS["every_field"], values, errors)
    cards["home"] = home_card(HOME, NAMES)
    return cards


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path("adaptive-card-1.5.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@pytest.mark.parametrize("name", sorted(all_cards()))
def test_every_card_validates_against_the_adaptive_card_1_5_schema(name, validator):
    card = all_cards()[name]
    errors = sorted(validator.iter_errors(card), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert card["version"] == "1.5"


def test_the_schema_catches_an_invalid_card(validator):
    assert list(validator.iter_errors({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Nope"}]}))


@pytest.mark.parametrize("name", sorted(all_cards()))
def test_cards_match_their_golden_files(name):
    card = all_cards()[name]
    path = GOLDEN / f"{name}.json"
    rendered = json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("BUDDY_UPDATE_GOLDEN") == "1" or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(rendered)
    assert rendered == path.read_text()


def test_buttons_carry_action_id_and_value_unchanged():
    card = message_card(MESSAGES["every_block"])
    [action_set] = [e for e in card["body"] if e["type"] == "ActionSet"]
    submit, danger, link, plain = action_set["actions"]
    assert submit == {
        "type": "Action.Submit",
        "title": "Answer the task",
        "data": {"action_id": "task.open", "value": "task-1"},
        "style": "positive",
    }
    assert danger["style"] == "destructive"
    assert link == {"type": "Action.OpenUrl", "title": "Guide", "url": "https://example.org/guide"}
    assert "style" not in plain


def test_fields_become_a_factset_and_a_divider_a_separator():
    body = message_card(MESSAGES["every_block"], NAMES)["body"]
    [facts] = [e for e in body if e["type"] == "FactSet"]
    assert facts["facts"][1] == {"title": "Trust", "value": "Leeds _Teaching_"}
    context = next(e for e in body if e.get("isSubtle"))
    assert context["separator"] is True


def test_mentions_render_as_the_persons_name_or_their_id():
    """A card mention needs ``msteams.entities``, which the 1.5 schema forbids: plain text it is."""
    assert "with @Bob Jones for" in message_card(MESSAGES["every_block"], NAMES)["body"][1]["text"]
    assert "with @bob for" in message_card(MESSAGES["every_block"])["body"][1]["text"]


def test_user_text_shows_literally():
    rendered = to_teams(escape(USER_TEXT))
    assert rendered == (
        r"I \*love\* \_this\_ \[click\](http://evil.example) &lt;at&gt;everyone&lt;/at&gt; &amp; {@x} \\o/"
    )
    assert escape_text("a_b") == r"a\_b"


def test_markup_becomes_teams_markdown():
    markup = "**bold** _it_ [the *guide*](https://u.example/a_b?x=1&y=2) - x"
    assert to_teams(markup) == r"**bold** _it_ [the \*guide\*](https://u.example/a_b?x=1&y=2) - x"


def test_form_inputs_have_the_properties_teams_needs():
    body = form_card(FORMS["every_field"])["body"]
    by_id = {e["id"]: e for e in body if "id" in e}
    assert by_id["name"] | {} == by_id["name"]
    assert (by_id["name"]["type"], by_id["name"]["maxLength"], by_id["name"]["isRequired"]) == (
        "Input.Text",
        150,
        True,
    )
    assert by_id["name"]["errorMessage"] and by_id["name"]["label"] == "Your name"
    assert by_id["about"]["isMultiline"] is True and by_id["about"]["maxLength"] == 2000
    assert "isRequired" not in by_id["about"]
    assert by_id["role"]["style"] == "expanded" and by_id["trust"]["style"] == "compact"
    assert by_id["interests"]["isMultiSelect"] is True
    assert by_id["regions"]["value"] == "r1,r2"
    assert by_id["consent"]["type"] == "Input.Toggle" and by_id["consent"]["value"] == "false"
    assert by_id["start"] == {
        "type": "Input.Date",
        "id": "start",
        "label": "Start date",
        "isRequired": True,
        "errorMessage": "Start date is required",
        "value": "2025-02-03",
    }
    hints = [e["text"] for e in body if e["type"] == "TextBlock" and e.get("isSubtle")]
    assert "Up to 150 words." in hints


def test_the_submit_button_and_the_open_button_carry_the_form_back():
    form = FORMS["every_field"]
    submit = form_card(form)["actions"][0]
    assert decode_form(submit["data"][FORM_KEY]) == form
    opener = open_form_card(form)["actions"][0]
    assert opener["data"]["msteams"] == {"type": "task/fetch"}
    assert decode_form(opener["data"][OPEN_FORM_KEY]) == form


def test_a_button_that_opens_a_form_opens_the_dialog_in_one_click(validator):
    from conversations.core.views import Actions, Button, Message

    card = message_card(Message("t", (Actions((Button("Respond", "respond", "7", opens_form=True),)),)))
    [action_set] = [e for e in card["body"] if e["type"] == "ActionSet"]
    assert action_set["actions"][0]["data"] == {
        "action_id": "respond",
        "value": "7",
        "msteams": {"type": "task/fetch"},
    }
    assert not list(validator.iter_errors(card))
