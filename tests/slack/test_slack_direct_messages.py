"""The same words as ``/buddy``, typed in the DM with the app (``message.im``): the answer comes
in the DM, a form opens from a button (a message event has no trigger), and Buddy ignores its
own posts, edits and Slack's retries."""

from __future__ import annotations

import itertools

from tests.slack.fake_slack import FakeSlack
from tests.slack.round import COORDINATOR, DOCTOR, Round

_events = itertools.count(1)


async def type_in_dm(r: Round, user: str, text: str, **extra: object) -> str:
    dm = r.fake.open_dm(user)
    event = {"type": "message", "channel_type": "im", "channel": dm, "user": user, "text": text,
             "ts": f"{next(_events)}.000100", **extra}  # fmt: skip
    sent = await r.slack.event(event, f"Ev0DM{next(_events):04d}")
    assert sent.status == 200
    await r.slack.settle()
    return dm


async def test_help_typed_in_the_dm_is_answered_there(round_: Round, fake: FakeSlack) -> None:
    dm = await type_in_dm(round_, DOCTOR, "help")
    [answer] = fake.messages_in(dm)
    assert "What I can do" in str(answer["blocks"])
    await type_in_dm(round_, DOCTOR, "frobnicate")
    assert "I don't know the command" in str(fake.messages_in(dm)[-1]["blocks"])


async def test_a_form_opens_from_a_button_in_the_dm(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create June")
    dm = await type_in_dm(r, DOCTOR, "join")
    [button] = [
        e for b in fake.messages_in(dm)[-1]["blocks"] for e in b.get("elements", []) if e["type"] == "button"
    ]
    assert button["action_id"] == "run_command" and button["value"] == "join"
    opened = len(fake.calls_to("views.open"))
    assert (await r.slack.press("run_command", "join", DOCTOR, channel=dm)).status == 200
    await r.slack.settle()
    assert fake.calls_to("views.open")[opened].args["view"]["callback_id"] == "register"


async def test_the_apps_own_posts_edits_and_retries_are_ignored(round_: Round, fake: FakeSlack) -> None:
    r = round_
    dm = fake.open_dm(DOCTOR)
    own = {
        "type": "message",
        "channel_type": "im",
        "channel": dm,
        "user": "U0BOT001",
        "bot_id": "B0BUDDY",
        "text": "help",
    }
    edit = {
        "type": "message",
        "channel_type": "im",
        "channel": dm,
        "subtype": "message_changed",
        "text": "help",
    }
    for n, event in enumerate((own, edit)):
        assert (await r.slack.event(event, f"Ev0IGN{n}")).status == 200
    status = {"type": "message", "channel_type": "im", "channel": dm, "user": DOCTOR, "text": "status"}
    for retry in range(3):
        assert (await r.slack.event(status, "Ev0ONCE", retry=retry)).status == 200
    await r.slack.settle()
    assert len(fake.messages_in(dm)) == 1  # one answer, to the status typed once
