"""The programme in Slack (issue 15), over HTTP on loopback: the introduction's huddle hint in the
group DM, the portfolio as PDF and Markdown uploaded to the buddy's DM (read back), "Did you meet?"
Need help into the coordinators' inbox, a rating and its comment, the evaluation survey, the
certificate PDF, ``cohort copy`` and its invitations, and the coordinator approving a waiting-list match."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from pypdf import PdfReader

from tests.slack.fake_slack import FakeSlack
from tests.slack.round import COORDINATOR, LETTER, Round
from tests.slack.round import DOCTOR as ASHA  # noqa: E402
from tests.slack.round import MANAGER as BEN  # noqa: E402


def _uploaded(fake: FakeSlack, start: int) -> tuple[str, bytes]:
    done = fake.calls_to("files.completeUploadExternal")[start:]
    assert done, "no file was uploaded"
    dm = done[-1].args["channel_id"]
    [posted] = [m for m in fake.messages_in(dm) if m.get("files")][-1:]
    return fake.files[posted["files"][0]["id"]]


def _pdf(fake: FakeSlack, start: int) -> str:
    name, content = _uploaded(fake, start)
    assert name.endswith(".pdf") and content[:5] == b"%PDF-"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["text"]["text"]: e for b in blocks for e in b.get("elements", []) if e.get("type") == "button"}


async def _dm_button(r: Round, user: str, label: str) -> tuple[dict[str, Any], str]:
    """The newest ``label`` button in the user's DM (a post the sender's pacing held back for a
    second is sent once the clock has moved on)."""
    dm = r.fake.open_dm(user)
    for _ in range(3):
        for message in [
            *reversed(r.fake.responses),
            *reversed(r.fake.messages_in(dm)),
        ]:  # ephemeral replies too
            found = _buttons(message.get("blocks", []))
            if label in found:
                return found[label], dm
        r.engine.clock.advance(seconds=2)  # type: ignore[attr-defined]
        await r.deliver()
    raise AssertionError(f"no {label!r} button in {user}'s DM: {r.dm_texts(user)}")


async def _press(r: Round, user: str, label: str) -> None:
    button, dm = await _dm_button(r, user, label)
    sent = await r.slack.press(button["action_id"], button.get("value", ""), user, channel=dm)
    assert sent.status == 200
    await r.slack.settle()


async def _modal(r: Round, user: str, label: str) -> dict[str, Any]:
    """Press a DM button that opens a modal; the modal's view."""
    opened = len(r.fake.calls_to("views.open"))
    await _press(r, user, label)
    return dict(r.fake.calls_to("views.open")[opened].args["view"])


async def _answer(r: Round, user: str, text: str) -> None:
    opened = len(r.fake.calls_to("views.open"))
    assert (await r.slack.press("respond", "1", user, channel=r.group())).status == 200
    await r.slack.settle()
    view = r.fake.calls_to("views.open")[opened].args["view"]
    sent = await r.slack.submit(view, {"answer": text}, user)
    assert sent.status == 200 and sent.text == "", sent.text
    await r.slack.settle()
    await r.deliver()


async def test_huddle_hint_rating_portfolio_and_certificate_through_slack(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.pair("North")
    group = r.group()
    assert any("huddle" in str(m["blocks"]) for m in fake.messages_in(group))

    await r.say(COORDINATOR, "task send")
    await r.deliver()
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    reply = await r.say(ASHA, "portfolio")
    assert "Problem page" in str(reply) + str(fake.responses[-1:])  # in the ack, or after it when slow
    await r.slack.settle()
    text = _pdf(fake, uploads)
    assert "Buddy scheme portfolio: Asha Patel" in text and "MLCF: Working with others" in text

    r.engine.clock.set(r.engine.clock.now() + timedelta(days=7))  # type: ignore[attr-defined]
    r.engine.reconcile(1)
    await r.deliver()
    assert any("Did you meet" in t for t in r.dm_texts(BEN))
    await _press(r, BEN, "Need help")
    assert any("their reply will come here" in str(resp) for resp in fake.responses)
    await r.deliver()
    [card] = [
        m
        for m in fake.messages_in(fake.open_dm(COORDINATOR))
        if "Ben Okafor wrote to the coordinators" in str(m)
    ]
    assert "haven't been able to meet Asha Patel" in str(card["blocks"]) and "Resolve" in _buttons(
        card["blocks"]
    )
    view = await _modal(r, COORDINATOR, "Reply")  # the request is an inbox thread: the reply reaches Ben
    assert view["callback_id"] == "inbox_reply"
    sent = await r.slack.submit(view, {"text": "I'll set up a call for you both."}, COORDINATOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    await r.deliver()
    assert any("I'll set up a call for you both." in str(m) for m in fake.messages_in(fake.open_dm(BEN)))

    uploads = len(fake.calls_to("files.completeUploadExternal"))
    await r.say(ASHA, "portfolio markdown")
    name, content = _uploaded(fake, uploads)
    assert name.endswith(".md") and "# Buddy scheme portfolio: Asha Patel" in content.decode()
    assert "## Problem page" in content.decode() and "MLCF: Working with others" in content.decode()

    await r.say(COORDINATOR, "round end")
    await r.deliver()
    assert any("has come to an end" in t for t in r.texts(group))
    opened = len(fake.calls_to("views.open"))
    sent = await r.slack.press("evaluate", "1", user=ASHA)
    assert sent.status == 200
    await r.slack.settle()
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "evaluation" and "understand the other profession" in str(view["blocks"])
    sent = await r.slack.press("rate_task", "1:9", user=ASHA)
    assert sent.status == 200
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    reply = await r.say(ASHA, "certificate")
    assert reply and "I have none recorded for you" in str(reply)


async def test_rating_comment_survey_and_certificate_through_slack(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair("North")
    await r.say(COORDINATOR, "task send")
    await r.deliver()
    for user, text in (
        (ASHA, LETTER),
        (BEN, LETTER),
        (ASHA, "Dear Ben, try this."),
        (BEN, "Dear Asha, try that."),
    ):
        await _answer(r, user, text)
    assert any("you've completed" in t for t in r.texts(r.group())), r.texts(r.group())
    await _press(r, ASHA, "4")
    assert any("you rated _Problem page_ 4 out of 5" in str(resp) for resp in fake.responses)
    await _press(r, BEN, "2")
    view = await _modal(r, ASHA, "Add a comment")
    assert view["callback_id"] == "task_comment"
    sent = await r.slack.submit(view, {"comment": "   "}, ASHA)  # empty: the modal stays, the field says why
    assert sent.status == 200 and sent.json()["response_action"] == "errors"
    sent = await r.slack.submit(view, {"comment": "More time for the reply, please"}, ASHA)
    assert sent.status == 200 and sent.text == "", sent.text
    await r.slack.settle()
    status = await r.say(COORDINATOR, "status")
    assert status and "3.0 / 5 from 2 ratings, 1 comments" in str(status)

    await r.say(COORDINATOR, "round end")
    await r.deliver()
    view = await _modal(r, ASHA, "Answer the survey")
    assert view["callback_id"] == "evaluation"
    sent = await r.slack.submit(
        view, {"understand": "4", "confidence": "5", "recommend": "yes", "change": ""}, ASHA
    )
    assert sent.status == 200 and sent.text == "", sent.text
    await r.slack.settle()
    sent = await r.slack.submit(view, {"understand": "", "confidence": "5", "recommend": "maybe"}, BEN)
    assert sent.status == 200 and "understand" in sent.json()["errors"]
    status = await r.say(COORDINATOR, "status")
    assert status and "1 of 2 answered" in str(status) and "1 yes, 0 maybe, 0 no" in str(status)
    assert "Programme ended" in str(status) and "0 groups" not in str(status)

    uploads = len(fake.calls_to("files.completeUploadExternal"))
    await _press(r, ASHA, "Get my certificate")
    text = _pdf(fake, uploads)
    assert "Certificate of participation" in text and "Asha Patel" in text and "Problem page" in text


async def test_cohort_copy_and_the_waiting_list_through_slack(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair("North")
    await r.register("U0CCC003", "Cara Jones", "clinician")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()
    where = await r.say("U0CCC003", "where am i")
    assert where and "number 1 of 1 on the waiting list" in str(where)
    await r.register("U0DDD004", "Dev Shah", "general_manager")
    await r.deliver()
    await _press(r, COORDINATOR, "Match them")
    assert any("introduced Cara Jones and Dev Shah" in str(resp) for resp in fake.responses)
    await r.deliver()
    [intro] = [
        c for c in fake.conversations.values() if c.kind == "mpim" and {"U0CCC003", "U0DDD004"} <= c.members
    ]
    assert any("top of the waiting list" in str(m) for m in intro.messages)

    copied = await r.say(COORDINATOR, "cohort copy North 2027")
    assert copied and "Created *North 2027*" in str(copied) and "invited 4 past participants" in str(copied)
    await r.deliver()
    await _press(r, BEN, "Stay on as a network member")
    assert any("You're staying on as a network member" in str(resp) for resp in fake.responses)
    view = await _modal(r, ASHA, "Join again")
    assert view["callback_id"] == "register"
    refused = await r.say(ASHA, "cohort copy North 2028")
    assert refused and "for scheme coordinators" in str(refused)
