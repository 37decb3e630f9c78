"""Hidden characters are refused in one place, with a message that names them (chat harness)."""

from __future__ import annotations

from conversations.core.interactions import FormErrors, ShowForm
from tests.engine.helpers import cohort, registration


def test_a_name_with_a_bidi_override_is_refused_beside_the_field_and_nothing_is_saved(chat):
    cohort(chat)
    assert isinstance(chat.say("U1", "join"), ShowForm)
    outcome = chat.submit("U1", registration("Dr \u202ehtimS"))
    assert isinstance(outcome, FormErrors)
    assert "right-to-left override (U+202E)" in outcome.errors["display_name"]
    with chat.engine.uow_factory() as uow:
        assert not uow.participants.for_user(chat.actor("U1").ref)


def test_nul_and_zero_width_characters_in_a_command_are_refused(chat):
    cohort(chat)
    chat.say("U1", "join\x00")
    assert "NUL byte" in chat.last("U1")
    chat.say("U1", "st\u200batus")
    assert "zero-width space (U+200B)" in chat.last("U1")


def test_emoji_and_right_to_left_text_are_welcome(chat):
    cohort(chat)
    chat.say("U1", "join")
    outcome = chat.submit("U1", registration("أحمد 👩‍⚕️ Zoë"))
    assert not isinstance(outcome, FormErrors), outcome


def test_a_platform_name_with_hidden_characters_is_cleaned_not_refused(chat):
    cohort(chat)
    chat.person("U1", "Asha\u200b Patel\u202e")
    chat.say("U1", "help")
    assert "What I can do" in chat.last("U1")
