"""Joining, editing a profile, pausing, resuming and leaving: what people see and which rows exist."""

from __future__ import annotations

import pytest

from conversations.core.interactions import CloseForm, FormErrors, Reply, ShowForm
from conversations.core.views import Checkbox, MultiSelect, Select
from tests.engine.helpers import ADMIN, cohort, matched_pair, register, registration


def participants(chat):
    with chat.engine.uow_factory() as uow:
        return [p for c in uow.cohorts.all() for p in uow.participants.in_cohort(c.id)]


def test_join_opens_the_registration_form_with_every_profile_field(chat):
    cohort(chat)
    chat.person("U1", "Asha Patel")
    outcome = chat.say("U1", "join")
    assert isinstance(outcome, ShowForm)
    ids = [getattr(f, "id", None) for f in outcome.form.fields]
    for field in ("display_name", "role", "specialist_area", "profession", "grade", "specialty", "employer",
                  "employer_type", "region", "interests", "consent_data", "consent_share"):  # fmt: skip
        assert field in ids
    by_id = {getattr(f, "id", ""): f for f in outcome.form.fields}
    assert by_id["display_name"].initial == "Asha Patel"  # prefilled from the platform profile
    assert isinstance(by_id["role"], Select) and isinstance(by_id["interests"], MultiSelect)
    assert isinstance(by_id["consent_data"], Checkbox) and by_id["consent_data"].required
    assert {o.value for o in by_id["employer_type"].options} == {
        "acute", "mental_health", "community", "primary_care", "ambulance", "commissioner"}  # fmt: skip


def test_a_valid_registration_is_saved_and_confirmed(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    assert "you're registered for **Test Cohort**" not in chat.last("U1")  # markup is rendered, not shown
    assert "you're registered for Test Cohort" in chat.last("U1")
    [p] = participants(chat)
    assert (p.platform, p.workspace, p.user_id) == ("memory", "T1", "U1")
    assert (p.role, p.specialty, p.employer_type, p.region, p.status) == (
        "clinician", "psychiatry", "mental_health", "north_west", "registered")  # fmt: skip
    assert p.interests == ["digital"] and p.consent_data and p.consent_share
    assert p.email == "u1@example.nhs.uk"


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"display_name": "  "}, "display_name", "Please give your name"),
        ({"role": "astronaut"}, "role", "isn't a role I know"),
        (
            {"role": "specialist_manager", "specialist_area": ""},
            "specialist_area",
            "choose your specialist area",
        ),
        ({"specialty": ""}, "specialty", "choose your specialty"),
        ({"grade": ""}, "grade", "Please give your grade"),
        ({"grade": "<script>"}, "grade", "A grade is up to 40"),
        ({"employer": ""}, "employer", "Please name your employer"),
        ({"employer": "x" * 121}, "employer", "limit is 120"),
        ({"employer_type": "spaceport"}, "employer_type", "isn't a employer type I know"),
        ({"region": ""}, "region", "choose your region"),
        (
            {"interests": ("digital", "research", "finance", "workforce", "leadership", "sustainability")},
            "interests",
            "at most 5",
        ),  # fmt: skip
        ({"interests": ("knitting",)}, "interests", "isn't an interest I know"),
        ({"consent_data": False}, "consent_data", "agree to take part"),
    ],
)
def test_bad_registration_names_the_field_and_saves_nothing(chat, overrides, field, says):
    cohort(chat)
    chat.person("U1", "Asha")
    chat.say("U1", "join")
    outcome = chat.submit("U1", registration("Asha", **overrides))
    assert isinstance(outcome, FormErrors)
    assert says in outcome.errors[field]
    assert participants(chat) == []
    assert chat.person("U1").open_form is not None  # the form stays open with what was typed


def test_several_mistakes_are_all_reported_at_once(chat):
    cohort(chat)
    chat.say("U1", "join")
    outcome = chat.submit("U1", registration("", grade="", region="", consent_data=False))
    assert isinstance(outcome, FormErrors)
    assert set(outcome.errors) == {"display_name", "grade", "region", "consent_data"}


def test_join_when_no_cohort_is_open_is_a_polite_no(chat):
    outcome = chat.say("U1", "join")
    assert isinstance(outcome, Reply)
    assert "Registration isn't open" in chat.last("U1")
    cohort(chat)
    chat.say(ADMIN, "cohort close")
    chat.say("U1", "join")
    assert "Registration isn't open" in chat.last("U1")
    chat.say("U1", "join Test Cohort")
    assert "Registration for Test Cohort is closed" in chat.last("U1")


def test_joining_twice_points_to_profile_and_profile_edits_keep_identity(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    chat.say("U1", "join")
    assert "already registered" in chat.last("U1")
    outcome = chat.say("U1", "profile")
    assert isinstance(outcome, ShowForm)
    grade = next(f for f in outcome.form.fields if getattr(f, "id", "") == "grade")
    assert grade.initial == "ST4"
    assert isinstance(chat.submit("U1", registration("Asha Patel", grade="ST5")), CloseForm)
    [p] = participants(chat)
    assert p.grade == "ST5" and p.user_id == "U1"


def test_profile_before_joining_says_how_to_join(chat):
    chat.say("U9", "profile")
    assert "use `join`" in chat.last("U9")


def test_a_stale_or_tampered_form_state_is_rejected_without_saving(chat):
    cohort(chat)
    chat.say("U1", "join")
    form = chat.person("U1").open_form
    chat.person("U1").open_form = type(form)(form.form_id, form.title, form.fields, state="999")
    outcome = chat.submit("U1", registration("Asha"))
    assert isinstance(outcome, FormErrors) and "out of date" in outcome.errors["display_name"]
    assert participants(chat) == []


def test_pause_resume_and_leave(chat):
    matched_pair(chat)
    chat.say("U1", "pause")
    assert "Paused" in chat.last("U1")
    assert participants(chat)[0].status == "paused"
    chat.say("U1", "pause")
    assert "already paused" in chat.last("U1")
    chat.say("U1", "resume")
    assert "Welcome back" in chat.last("U1")
    assert participants(chat)[0].status == "matched"
    chat.say("U1", "resume")
    assert "not paused" in chat.last("U1")


def test_the_pause_reply_has_a_resume_button(chat):
    matched_pair(chat)
    chat.press("U1", "pause")
    assert participants(chat)[0].status == "paused"
    chat.press_in_last("U1", "Resume")
    assert "Welcome back" in chat.last("U1")
    assert participants(chat)[0].status == "matched"


def test_leaving_tells_the_buddy_and_puts_them_back_on_the_list(chat):
    matched_pair(chat)
    chat.say("U1", "leave")
    assert "You've left the scheme" in chat.last("U1")
    assert "I've let your buddy know" in chat.last("U1")
    assert "your buddy has stepped away" in chat.transcript("U2")
    statuses = {p.user_id: p.status for p in participants(chat)}
    assert statuses == {"U1": "left", "U2": "waiting"}
    chat.say("U1", "pause")
    assert "use `join`" in chat.last("U1")


def test_a_form_state_pointing_at_another_workspaces_cohort_is_refused(chat):
    from conversations.core.model import Cohort

    cohort(chat)
    chat.engine.run(
        lambda ctx: ctx.uow.cohorts.add(Cohort(name="Elsewhere", platform="memory", workspace="T2"))
    )
    chat.say("U1", "join")
    form = chat.person("U1").open_form
    chat.person("U1").open_form = type(form)(form.form_id, form.title, form.fields, state="2")
    outcome = chat.submit("U1", registration("Asha"))
    assert isinstance(outcome, FormErrors) and "out of date" in outcome.errors["display_name"]
    assert participants(chat) == []
