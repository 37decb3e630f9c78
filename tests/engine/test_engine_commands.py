"""The command grammar and who may run what."""

from __future__ import annotations

import pytest

from conversations.catalogue import parse
from conversations.core.interactions import (
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    Reply,
    ShowForm,
)
from conversations.core.routes import Parsed as Command
from conversations.core.routes import Unknown as UnknownCommand
from tests.engine.helpers import ADMIN, cohort, register


def test_parser_reads_words_mentions_and_options():
    command = parse("/buddy match swap <@U123|asha> @U456 cohort=North")
    assert isinstance(command, Command)
    assert command.name == "match swap"
    assert command.mentions == ("U123", "U456")
    assert command.options == {"cohort": "North"}
    assert parse("MATCH Preview").name == "match preview"  # type: ignore[union-attr]
    assert parse("").name == "help"  # type: ignore[union-attr]
    assert parse('cohort create "North West 2026"').args == ("North West 2026",)  # type: ignore[union-attr]
    unknown = parse("dance")
    assert isinstance(unknown, UnknownCommand) and "dance" in unknown.reason


def test_unknown_command_gets_help_not_silence(chat):
    outcome = chat.say("U1", "frobnicate now")
    assert isinstance(outcome, Reply)
    assert "I don't know the command “frobnicate”" in chat.last("U1")
    assert "`join [cohort]`: register" in chat.last("U1")


def test_help_lists_coordinator_commands_only_to_coordinators(chat):
    cohort(chat)
    chat.say("U1", "help")
    assert "`join" in chat.last("U1") and "match preview" not in chat.last("U1")
    chat.say(ADMIN, "help")
    assert "match preview" in chat.last(ADMIN)


@pytest.mark.parametrize("command", ["match preview", "match confirm", "task send", "nudge", "export", "digest",
                                     "cohort list", "match swap @U1 @U2", "coordinator add @U3"])  # fmt: skip
def test_coordinator_commands_are_politely_refused_to_participants(chat, command):
    cohort(chat)
    register(chat, "U1", "Asha")
    chat.say("U1", command)
    assert "Sorry" in chat.last("U1") and "coordinat" in chat.last("U1")
    with chat.engine.uow_factory() as uow:
        assert uow.matches.open_proposal(1) is None
        assert uow.assignments.for_match(1) == []


def test_only_admins_create_cohorts_and_names_are_checked(chat):
    chat.say("U1", "cohort create Sneaky")
    assert "only Buddy's administrators" in chat.last("U1")
    chat.say(ADMIN, "cohort create X")
    assert "name of 2 to 80" in chat.last(ADMIN)
    chat.say(ADMIN, "cohort create North region=atlantis")
    assert "isn't a region I know" in chat.last(ADMIN)
    chat.say(ADMIN, "cohort create North region=north_west")
    assert "Created North" in chat.last(ADMIN)
    chat.say(ADMIN, "cohort create north")
    assert "already exists" in chat.last(ADMIN)


def test_a_coordinator_of_one_cohort_is_authorised_by_user_id_not_name(chat):
    cohort(chat)
    chat.say(ADMIN, "coordinator add @UCO")
    chat.person("UCO", "Cora")
    chat.say("UCO", "cohort list")
    assert "Test Cohort" in chat.last("UCO")
    chat.person("UIMPOSTOR", "Cora")  # same display name, different id
    chat.say("UIMPOSTOR", "cohort list")
    assert "Sorry" in chat.last("UIMPOSTOR")


def test_a_coordinator_of_several_cohorts_must_say_which(chat):
    cohort(chat, "North")
    cohort(chat, "South")
    chat.say(ADMIN, "match preview")
    assert "several cohorts (North, South)" in chat.last(ADMIN)
    chat.say(ADMIN, "match preview cohort=Nowhere")
    assert "no cohort called “Nowhere”" in chat.last(ADMIN)
    chat.say(ADMIN, "match preview cohort=South")
    assert "Match preview: South" in chat.last(ADMIN)


def test_user_text_is_escaped_before_it_is_echoed(chat):
    cohort(chat)
    chat.say("U1", "join")
    chat.submit("U1", {"display_name": "**Bold** [x](https://evil.example) _i_", "role": "clinician",
                       "profession": "doctor", "grade": "ST1", "specialty": "surgery", "employer": "A",
                       "employer_type": "acute", "region": "london", "consent_data": True})  # fmt: skip
    # the neutral markup keeps the person's characters literal
    assert "**Bold** [x](https://evil.example) _i_" in chat.last("U1")


def test_coordinator_work_has_its_own_lane(chat):
    """Adapters queue work by lane, so a cohort-wide command never holds up a member's click."""
    actor = chat.actor("U1")
    lane = chat.engine.lane
    assert lane(CommandInvoked(actor, "match preview cohort=North")) == "coordinator"
    assert lane(CommandInvoked(actor, "/buddy export cohort=North")) == "coordinator"
    assert lane(CommandInvoked(actor, "cohort create North")) == "coordinator"
    assert lane(CommandInvoked(actor, "pause")) == "member"
    assert lane(CommandInvoked(actor, "status")) == "member"
    assert lane(CommandInvoked(actor, "frobnicate")) == "member"
    assert lane(ButtonPressed(actor, "match_confirm", "7")) == "coordinator"
    assert lane(ButtonPressed(actor, "pause", "")) == "member"
    assert lane(ButtonPressed(actor, "run_command", "match preview")) == "coordinator"
    assert lane(ButtonPressed(actor, "run_command", "join")) == "member"
    assert lane(FormSubmitted(actor, "register", "1", {})) == "member"
    assert lane(HomeOpened(actor)) == "member"
    admin = chat.actor(ADMIN)  # an admin's status and home count every cohort's figures
    assert lane(CommandInvoked(admin, "status")) == lane(HomeOpened(admin)) == "coordinator"
    assert lane(CommandInvoked(admin, "help")) == "member"


def test_a_run_command_button_runs_the_pressers_own_words_with_the_same_checks(chat):
    cohort(chat)
    opened = chat.press("U1", "run_command", "join")
    assert isinstance(opened, ShowForm) and opened.form.form_id == "register"
    refused = chat.press("U1", "run_command", "match preview")
    assert isinstance(refused, Reply) and "coordinator" in chat.last("U1")
