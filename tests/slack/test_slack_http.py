"""The Slack app over real HTTP on loopback: signed requests in, Web API calls to the fake."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.slack.dedupe import SqlDedupe
from adapters.slack.listeners import SORRY, TOO_SLOW, WORKING
from conversations.core.interactions import (
    ButtonPressed,
    CloseForm,
    CommandInvoked,
    FormErrors,
    FormSubmitted,
    HomeOpened,
    Interaction,
    MemberJoined,
    NoReply,
    Outcome,
    Reply,
    ShowForm,
    ShowHome,
)
from conversations.core.markup import escape
from conversations.core.refs import ConversationRef, MessageRef
from conversations.core.views import (
    Checkbox,
    DateField,
    Form,
    Home,
    LongText,
    Message,
    MultiSelect,
    Note,
    Option,
    Section,
    Select,
    ShortText,
)
from tests.slack.fake_slack import BOT_USER, TEAM, FakeSlack
from tests.slack.harness import SIGNING_SECRET, ScriptedEngine, SlackHarness, sign

FORM = Form(
    "register",
    "Join the buddy scheme",
    (
        Note("About you"),
        ShortText("display_name", "Your name"),
        Select("role", "Role", (Option("doctor", "Doctor"), Option("manager", "Manager"))),
        MultiSelect("interests", "Interests", (Option("qi", "QI"), Option("it", "IT"), Option("hr", "HR"))),
        LongText("about", "About you", word_limit=50, required=False),
        DateField("start", "Start"),
        Checkbox("consent", "I agree", required=True),
    ),
    state='{"cohort": 3}',
)


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture
async def slack(fake: FakeSlack, engine: ScriptedEngine) -> AsyncIterator[SlackHarness]:
    harness = await SlackHarness(fake, engine).start()
    yield harness
    await harness.close()


# ---- signatures ----------------------------------------------------------------------------


def test_signer_matches_slacks_published_example() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
        "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body) == expected


@pytest.mark.parametrize(
    "tamper",
    ["bad_signature", "stale", "future", "other_secret", "missing"],
)
async def test_unsigned_or_stale_requests_get_401_and_do_nothing(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack, tamper: str
) -> None:
    body = slack.command_body("help")
    now = int(time.time())
    kwargs: dict = {
        "bad_signature": {"signature": "v0=" + "0" * 64},
        "stale": {"timestamp": now - 301, "signature": sign(SIGNING_SECRET, now - 301, body)},
        "future": {"timestamp": now + 301, "signature": sign(SIGNING_SECRET, now + 301, body)},
        "other_secret": {"signature": sign("another-apps-secret", now, body), "timestamp": now},
        "missing": {"signature": "", "timestamp": now},
    }[tamper]
    sent = await slack.post(body, "application/x-www-form-urlencoded", **kwargs)
    await slack.settle()
    assert sent.status == 401
    assert engine.seen == []
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


async def test_url_verification(slack: SlackHarness) -> None:
    sent = await slack.post(
        '{"type":"url_verification","challenge":"abc123","token":"t"}', "application/json"
    )
    assert sent.status == 200 and "abc123" in sent.text


# ---- /buddy ---------------------------------------------------------------------------------


async def test_command_reply_is_the_ephemeral_ack(slack: SlackHarness, engine: ScriptedEngine) -> None:
    engine.script = lambda i: Reply(Message("Swapped", (Section("Swapped " + escape("<!channel> & co")),)))
    sent = await slack.command("match swap <@U0BBB002|ben> <@U0CCC003>  cohort=North&amp;East")
    assert sent.status == 200
    body = sent.json()
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "Swapped &lt;!channel&gt; &amp; co"
    (seen,) = engine.seen
    assert isinstance(seen, CommandInvoked)
    assert seen.text == "match swap @U0BBB002 @U0CCC003  cohort=North&East"
    assert seen.actor.ref.user_id == "U0AAA001" and seen.actor.ref.workspace == TEAM
    assert seen.conversation == ConversationRef("slack", TEAM, "D0CMDCHAN")
    assert seen.actor.display_name == "Dr Asha Patel" and seen.actor.email == "asha.patel@nhs.net"


async def test_a_command_reads_as_the_guard_checked_it_even_when_it_says_payload(
    slack: SlackHarness, engine: ScriptedEngine
) -> None:
    """Bolt, parsing the body itself, took any form containing the word "payload" for a button's
    and read an empty body; it is given the guard's reading instead."""
    engine.script = lambda i: Reply(Message.simple("Noted"))
    sent = await slack.command("feedback the payload of this week's task was heavy")
    assert sent.status == 200 and sent.json()["text"] == "Noted"
    (seen,) = engine.seen
    assert (
        isinstance(seen, CommandInvoked) and seen.text == "feedback the payload of this week's task was heavy"
    )


async def test_command_opens_modal_with_the_trigger(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    engine.script = lambda i: ShowForm(FORM)
    trigger = fake.trigger()
    sent = await slack.command("join", trigger_id=trigger)
    assert sent.status == 200 and sent.text == ""
    (call,) = await fake.wait_calls("views.open")
    assert call.args["trigger_id"] == trigger
    view = call.args["view"]
    assert view["callback_id"] == "register" and view["private_metadata"] == '{"cohort": 3}'
    assert [b.get("block_id") for b in view["blocks"]][1:] == [
        "display_name",
        "role",
        "interests",
        "about",
        "start",
        "consent",
    ]


async def test_expired_trigger_tells_the_person(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    engine.script = lambda i: ShowForm(FORM)
    await slack.command("join", trigger_id=fake.trigger(issued_at=time.time() - 4))
    await slack.settle()
    assert fake.calls_to("views.open")  # tried, and Slack refused the stale trigger
    assert fake.responses[-1]["text"] == TOO_SLOW and fake.responses[-1]["response_type"] == "ephemeral"


async def test_slow_engine_acks_in_time_and_answers_later(fake: FakeSlack) -> None:
    def slow(_i: Interaction) -> Outcome:
        time.sleep(0.6)
        return Reply(Message.simple("Here is your **status**"))

    harness = await SlackHarness(fake, ScriptedEngine(slow), ack_budget=0.1).start()
    try:
        sent = await harness.command("status")
        assert sent.json()["text"] == WORKING
        await harness.settle()
        assert fake.responses[-1]["text"] == "Here is your *status*"
    finally:
        await harness.close()


async def test_engine_failure_is_a_polite_reply(slack: SlackHarness, engine: ScriptedEngine) -> None:
    def boom(_i: Interaction) -> Outcome:
        raise RuntimeError("database is down")

    engine.script = boom
    sent = await slack.command("status")
    assert sent.status == 200 and sent.json()["text"] == SORRY


# ---- buttons -------------------------------------------------------------------------------


async def test_button_reply_goes_to_response_url(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    engine.script = lambda i: Reply(Message.simple("Marked done"))
    sent = await slack.press("task_done~1", "task:42", user="U0BBB002")
    assert sent.status == 200 and sent.text == ""
    await slack.settle()
    (seen,) = engine.seen
    conv = ConversationRef("slack", TEAM, "G0GROUP01")
    assert seen == ButtonPressed(
        seen.actor, "task_done", "task:42", conv, MessageRef(conv, "1700000000.000100")
    )
    assert seen.actor.ref.user_id == "U0BBB002"
    assert fake.responses == [
        {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": "Marked done",
            "blocks": fake.responses[0]["blocks"],
        }
    ]


async def test_home_tab_button_reply_goes_to_dm(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    engine.script = lambda i: Reply(Message.simple("Paused"))
    await slack.press("pause", user="U0CCC003", channel=None)
    await slack.settle()
    (call,) = fake.calls_to("chat.postMessage")
    assert call.args["channel"] == "U0CCC003" and call.args["text"] == "Paused"


async def test_button_opens_modal(slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack) -> None:
    engine.script = lambda i: ShowForm(FORM)
    trigger = fake.trigger()
    await slack.press("respond", "assignment:9", trigger_id=trigger)
    (call,) = await fake.wait_calls("views.open")
    assert call.args["trigger_id"] == trigger


# ---- modal submissions ----------------------------------------------------------------------


ANSWERS = {
    "display_name": "Dr Asha <Patel>",
    "role": "manager",
    "interests": ["qi", "hr"],
    "about": None,
    "start": "2025-09-01",
    "consent": True,
}


async def _opened_view(slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack) -> dict:
    engine.script = lambda i: ShowForm(FORM)
    await slack.command("join")
    return (await fake.wait_calls("views.open"))[0].args["view"]


async def test_submission_values_reach_the_engine(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    view = await _opened_view(slack, engine, fake)
    engine.script = lambda i: CloseForm(Message.simple("Thanks, you're registered"))
    sent = await slack.submit(view, ANSWERS)
    assert sent.status == 200 and sent.text == ""
    submitted = engine.seen[-1]
    assert isinstance(submitted, FormSubmitted)
    assert submitted.form_id == "register" and submitted.state == '{"cohort": 3}'
    assert submitted.values == {
        "display_name": "Dr Asha <Patel>",
        "role": "manager",
        "interests": ("qi", "hr"),
        "about": "",
        "start": "2025-09-01",
        "consent": True,
    }
    await slack.settle()
    dm = fake.calls_to("chat.postMessage")[-1]
    assert dm.args["channel"] == "U0AAA001" and "registered" in dm.args["text"]


async def test_submission_errors_are_keyed_to_blocks(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    view = await _opened_view(slack, engine, fake)
    engine.script = lambda i: FormErrors(
        {"about": "Please keep it under 50 words.", "_form": "Registration closed."}
    )
    sent = await slack.submit(view, {**ANSWERS, "about": "word " * 60})
    assert sent.json() == {
        "response_action": "errors",
        "errors": {"about": "Please keep it under 50 words.", "display_name": "Registration closed."},
    }


async def test_submission_can_show_the_next_form(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    view = await _opened_view(slack, engine, fake)
    engine.script = lambda i: ShowForm(Form("step2", "Step 2", (ShortText("x", "X"),), state="s2"))
    body = (await slack.submit(view, ANSWERS)).json()
    assert body["response_action"] == "update" and body["view"]["callback_id"] == "step2"


async def test_submission_engine_failure_keeps_the_form_open(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    view = await _opened_view(slack, engine, fake)

    def boom(_i: Interaction) -> Outcome:
        raise RuntimeError("nope")

    engine.script = boom
    body = (await slack.submit(view, ANSWERS)).json()
    assert body == {"response_action": "errors", "errors": {"display_name": SORRY}}


# ---- events --------------------------------------------------------------------------------


async def test_home_opened_publishes_the_home(
    slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack
) -> None:
    engine.script = lambda i: ShowHome(Home((Section("Hello **Asha**"),)))
    sent = await slack.event(
        {"type": "app_home_opened", "user": "U0AAA001", "channel": "D0X", "tab": "home"}, "Ev001"
    )
    assert sent.status == 200
    await slack.settle()
    assert isinstance(engine.seen[0], HomeOpened)
    (call,) = fake.calls_to("views.publish")
    assert (
        call.args["user_id"] == "U0AAA001"
        and fake.homes["U0AAA001"]["blocks"][0]["text"]["text"] == "Hello *Asha*"
    )

    await slack.event(
        {"type": "app_home_opened", "user": "U0AAA001", "channel": "D0X", "tab": "messages"}, "Ev002"
    )
    await slack.settle()
    assert len(engine.seen) == 1


async def test_event_retries_act_once(slack: SlackHarness, engine: ScriptedEngine, fake: FakeSlack) -> None:
    engine.script = lambda i: ShowHome(Home((Section("hi"),)))
    event = {"type": "app_home_opened", "user": "U0AAA001", "channel": "D0X", "tab": "home"}
    statuses = [(await slack.event(event, "Ev0RETRY", retry=n)).status for n in range(4)]
    await slack.settle()
    assert statuses == [200] * 4
    assert len(engine.seen) == 1 and len(fake.calls_to("views.publish")) == 1


async def test_retries_act_once_across_processes(fake: FakeSlack, tmp_path: Path) -> None:
    """Two web processes behind a load balancer, one database: each sees some of the deliveries."""
    engine = ScriptedEngine(lambda i: NoReply())
    db = sa.create_engine(f"sqlite:///{tmp_path / 'buddy.db'}")
    dedupes = [SqlDedupe(db), SqlDedupe(db)]
    dedupes[0].create_table()
    apps = [await SlackHarness(fake, engine, dedupe=d).start() for d in dedupes]
    try:
        event = {
            "type": "member_joined_channel",
            "user": "U0DDD004",
            "channel": "C0COMMUNITY",
            "channel_type": "C",
        }
        for n in range(4):
            assert (await apps[n % 2].event(event, "Ev0SHARED", retry=n)).status == 200
        for app in apps:
            await app.settle()
        assert len(engine.seen) == 1
        assert isinstance(engine.seen[0], MemberJoined)
        assert engine.seen[0].channel == ConversationRef("slack", TEAM, "C0COMMUNITY")
    finally:
        for app in apps:
            await app.close()
        db.dispose()


async def test_member_joined_but_not_the_bot_itself(slack: SlackHarness, engine: ScriptedEngine) -> None:
    await slack.event({"type": "member_joined_channel", "user": BOT_USER, "channel": "C0COMMUNITY"}, "Ev0BOT")
    await slack.event(
        {"type": "member_joined_channel", "user": "U0EEE005", "channel": "C0COMMUNITY"}, "Ev0EEE"
    )
    await slack.settle()
    assert [i.actor.ref.user_id for i in engine.seen] == ["U0EEE005"]
    assert engine.seen[0].actor.display_name == "Ella Brown"
