"""Coordinators' tools over Slack's HTTP: groups and their buttons, the inbox (a buddy's DM, Reply
in a modal, the answer in their DM), announcements, the chart as an uploaded image and the XLSX."""

from __future__ import annotations

import itertools
from typing import Any

from tests.slack.fake_slack import TEAM, FakeSlack
from tests.slack.round import COORDINATOR, DOCTOR, MANAGER, Round

_events = itertools.count(500)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["text"]["text"]: e for b in blocks for e in b.get("elements", []) if e.get("type") == "button"}


async def type_in_dm(r: Round, user: str, text: str) -> str:
    dm = r.fake.open_dm(user)
    event = {"type": "message", "channel_type": "im", "channel": dm, "user": user, "text": text,
             "ts": f"{next(_events)}.000100"}  # fmt: skip
    assert (await r.slack.event(event, f"Ev0CO{next(_events):04d}")).status == 200
    await r.slack.settle()
    return dm


async def test_groups_and_ending_a_group(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair()
    listed = await r.say(COORDINATOR, "groups")
    assert listed and "Asha Patel" in str(listed["blocks"]) and len(listed["blocks"]) <= 50
    end = buttons(listed["blocks"])["End group"]
    assert (await r.slack.press(end["action_id"], end["value"], COORDINATOR, channel="D0COORD")).status == 200
    await r.slack.settle()
    assert any("now on the waiting list" in str(resp) for resp in fake.responses)
    waiting = await r.say(COORDINATOR, "waiting")
    assert waiting and "1. Asha Patel" in str(waiting["blocks"]) or "Asha Patel" in str(waiting)
    # a forged value is refused politely, never a 500
    assert (await r.slack.press(end["action_id"], "999999", COORDINATOR, channel="D0COORD")).status == 200
    await r.slack.settle()
    assert any("no longer exists" in str(resp) for resp in fake.responses)


async def test_a_buddys_dm_reaches_the_coordinator_and_the_reply_comes_back(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.pair()
    dm = await type_in_dm(r, DOCTOR, "Hi, my buddy hasn't replied for two weeks")
    assert "passed that on to your coordinators" in str(fake.messages_in(dm)[-1])
    await r.deliver()
    [card] = [
        m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "hasn't replied for two weeks" in str(m)
    ]
    reply = buttons(card["blocks"])["Reply"]
    opened = len(fake.calls_to("views.open"))
    await r.slack.press(reply["action_id"], reply["value"], COORDINATOR, channel=fake.open_dm(COORDINATOR))
    await r.slack.settle()
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "inbox_reply"
    sent = await r.slack.submit(view, {"text": "I'll talk to Ben today."}, COORDINATOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    await r.deliver()
    assert any("I'll talk to Ben today." in str(m) for m in fake.messages_in(dm)), fake.messages_in(dm)


async def test_sentences_in_a_group_dm_are_not_passed_on(round_: Round, fake: FakeSlack) -> None:
    """A group DM's messages never reach Buddy as its own DM's do (only ``message.im`` is
    subscribed, and an ``mpim`` event is ignored); ``/buddy`` typed there answers privately and
    passes nothing on."""
    r = round_
    await r.pair()
    group = r.group()
    event = {"type": "message", "channel_type": "mpim", "channel": group, "user": DOCTOR,
             "text": "Hi Ben, shall we meet on Tuesday?", "ts": f"{next(_events)}.000100"}  # fmt: skip
    before = len(fake.messages_in(group))
    assert (await r.slack.event(event, f"Ev0CO{next(_events):04d}")).status == 200
    await r.slack.settle()
    assert len(fake.messages_in(group)) == before  # Buddy stays out of their chat
    sent = await r.slack.command("Hi, my buddy hasn't replied for two weeks", DOCTOR,
                                 channel_id=group, channel_name="mpdm-asha--ben-1")  # fmt: skip
    assert sent.status == 200
    await r.slack.settle()
    said = str(sent.json() or "") + str(fake.responses)
    assert "I haven't passed that on" in said and "1:1 chat" in said
    await r.deliver()
    coordinator = str(fake.messages_in(fake.open_dm(COORDINATOR)))
    assert "hasn't replied for two weeks" not in coordinator and "Shall we meet" not in coordinator
    # the same words in Buddy's DM do reach the coordinators
    await type_in_dm(r, DOCTOR, "Hi, my buddy hasn't replied for two weeks")
    await r.deliver()
    assert "hasn't replied for two weeks" in str(fake.messages_in(fake.open_dm(COORDINATOR)))


async def test_announce_through_the_modal(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair()
    opened = len(fake.calls_to("views.open"))
    await r.say(COORDINATOR, "announce")
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "announce"
    sent = await r.slack.submit(view, {"text": "Drinks on Friday", "audience": "matched"}, COORDINATOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    [preview] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "Send to 2 people" in str(m)]
    send = buttons(preview["blocks"])["Send to 2 people"]
    await r.slack.press(send["action_id"], send["value"], COORDINATOR, channel=fake.open_dm(COORDINATOR))
    await r.slack.settle()
    await r.deliver()
    assert "Drinks on Friday" in str(fake.messages_in(fake.open_dm(DOCTOR)))
    assert "Drinks on Friday" in str(fake.messages_in(fake.open_dm(MANAGER)))


async def test_chart_and_spreadsheet_are_uploaded(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair()
    await r.say(COORDINATOR, "status chart")
    await r.say(COORDINATOR, "export xlsx")
    await fake.wait_for(lambda: len(fake.files) >= 2)
    names = {name: content for name, content in fake.files.values()}
    png = next(c for n, c in names.items() if n.endswith(".png"))
    xlsx = next(c for n, c in names.items() if n.endswith(".xlsx"))
    assert png.startswith(b"\x89PNG") and xlsx.startswith(b"PK")
    # the weekly summary goes through the outbox: the post, then its chart uploaded to the same DM
    before = len(fake.files)
    await r.say(COORDINATOR, "summary")
    await r.deliver()
    assert len(fake.files) == before + 1
    dm = fake.open_dm(COORDINATOR)
    assert any("Weekly summary" in m["text"] for m in fake.messages_in(dm))
    assert any(m.get("files") for m in fake.messages_in(dm))


async def _reply(r: Round, fake: FakeSlack, text: str) -> list[dict[str, Any]]:
    """A coordinator's command: its answer's blocks (in the ack, or posted to response_url later)."""
    before = len(fake.responses)
    said = await r.say(COORDINATOR, text)
    if said and said.get("blocks"):
        return list(said["blocks"])
    assert len(fake.responses) > before, f"no answer to {text!r}"
    return list(fake.responses[-1].get("blocks", []))


async def _press(
    r: Round, fake: FakeSlack, button: dict[str, Any], user: str = COORDINATOR
) -> list[dict[str, Any]]:
    before = len(fake.responses)
    assert (
        await r.slack.press(button["action_id"], button["value"], user, channel=fake.open_dm(user))
    ).status == 200
    await r.slack.settle()
    assert len(fake.responses) > before, f"no answer to {button['action_id']}"
    return list(fake.responses[-1].get("blocks", []))


async def _form(r: Round, fake: FakeSlack, opener: str | dict[str, Any], answers: dict[str, Any]) -> str:
    """Open a modal (a command, or a button that opens one), submit it; the confirmation in the DM."""
    opened, dm = len(fake.calls_to("views.open")), fake.open_dm(COORDINATOR)
    if isinstance(opener, str):
        await r.say(COORDINATOR, opener)
    else:
        await r.slack.press(opener["action_id"], opener["value"], COORDINATOR, channel=dm)
        await r.slack.settle()
    view = fake.calls_to("views.open")[opened].args["view"]
    kept = {b["block_id"]: b["element"]["initial_value"] for b in view["blocks"]  # untouched, as Slack sends them
            if b.get("type") == "input" and "initial_value" in b.get("element", {})}  # fmt: skip
    posted = len(fake.messages_in(dm))
    sent = await r.slack.submit(view, {**kept, **answers}, COORDINATOR)
    assert sent.status == 200 and sent.text == "", sent.text
    await r.slack.settle()
    return str(fake.messages_in(dm)[posted:])


async def _letters(r: Round, fake: FakeSlack) -> None:
    await r.say(COORDINATOR, "task send")
    await r.deliver()
    group = r.group()
    for user, text in ((DOCTOR, "Managers juggle the rota every single week, which I never saw."),
                       (MANAGER, "Clinicians carry the risk of each decision, which I never saw.")):  # fmt: skip
        respond = r.button(group, "Respond")
        opened = len(fake.calls_to("views.open"))
        await r.slack.press(respond["action_id"], respond["value"], user, channel=group)
        await r.slack.settle()
        sent = await r.slack.submit(fake.calls_to("views.open")[opened].args["view"], {"answer": text}, user)
        assert sent.status == 200 and sent.text == ""
        await r.slack.settle()
    await r.deliver()


async def test_answers_digest_and_task_authoring_over_slack(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair()
    await _letters(r, fake)
    shown = str(await _reply(r, fake, "answers"))
    assert "rota every single week" in shown and "risk of each decision" in shown

    preview = await _form(r, fake, "digest", {"intro": "From week one:", "send_to": "cohort", "channel": ""})
    assert "Preview" in preview and "rota every single week" in preview and "Asha" not in preview
    [card] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "Send digest" in str(m)][-1:]
    edited = await _form(r, fake, buttons(card["blocks"])["Edit digest"],
                         {"intro": "From week one, edited:", "send_to": "cohort", "channel": ""})  # fmt: skip
    assert "edited" in edited
    [card] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "Send digest" in str(m)][-1:]
    sent = str(await _press(r, fake, buttons(card["blocks"])["Send digest"]))
    assert "Sent the learning points to 2 people" in sent
    await r.deliver()
    assert "From week one, edited:" in str(fake.messages_in(fake.open_dm(MANAGER)))

    task = {"key": "rota_swap", "title": "Rota swap", "summary": "How a rota gets made",
            "instructions": "Each write how your rota is made, then compare.", "individual_words": "120",
            "reply_words": "80", "joint_words": "", "competencies": ["MLCF|Working with others"],
            "minutes": "30", "due_days": "7"}  # fmt: skip
    assert "Added _Rota swap_ (rota_swap)" in await _form(r, fake, "task add", task)
    assert "Saved _Rota swap, revised_" in await _form(
        r, fake, "task edit rota_swap", {**task, "title": "Rota swap, revised"}
    )
    assert "rota_swap" in str(await _reply(r, fake, "task order rota_swap"))
    # a field Slack reports badly is named, and the modal stays open
    opened = len(fake.calls_to("views.open"))
    await r.say(COORDINATOR, "task add")
    refused = await r.slack.submit(fake.calls_to("views.open")[opened].args["view"], {**task, "due_days": "soon"},
                                   COORDINATOR)  # fmt: skip
    assert refused.status == 200 and refused.json()["response_action"] == "errors"


async def test_people_pairs_and_group_buttons_over_slack(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair()
    card = await _reply(r, fake, f"person <@{DOCTOR}>")
    assert "Asha Patel" in str(card)
    card = await _press(r, fake, buttons(card)["Pause"])
    assert "Resume" in buttons(card)
    card = await _press(r, fake, buttons(card)["Resume"])
    assert "Pause" in buttons(card)

    # pairing the two by hand while they are already together: the rule it breaks, then confirm
    shown = await _reply(r, fake, f"pair <@{DOCTOR}> <@{MANAGER}>")
    assert "Rules this breaks" in str(shown)
    assert "Paired Asha Patel and Ben Okafor" in str(
        await _press(r, fake, buttons(shown)["Pair them anyway"])
    )

    listed = await _reply(r, fake, "groups")
    sent = await _form(r, fake, buttons(listed)["Message group"], {"text": "Drop-in on Thursday at noon."})
    assert "Sent your message to Asha Patel and Ben Okafor" in sent
    for _ in range(3):  # one post a second in a channel: the new group's introduction went first
        r.sender.clock.advance(seconds=2)  # type: ignore[attr-defined]
        await r.deliver()
    assert "Drop-in on Thursday at noon." in str(fake.messages_in(r.group()))
    assert "Re-matched" in str(await _press(r, fake, buttons(listed)["Re-match"]))
    assert "Asha Patel" in str(await _reply(r, fake, "waiting"))

    card = await _reply(r, fake, f"person <@{MANAGER}>")
    card = await _press(r, fake, buttons(card)["Remove from scheme"])
    assert "left" in str(card) and "Pause" not in buttons(card)
    card = await _reply(r, fake, f"person <@{DOCTOR}>")
    assert "Move to waiting list" not in buttons(card)  # already waiting after the re-match
    await _press(r, fake, buttons(card)["Pause"])
    card = await _reply(r, fake, f"person <@{DOCTOR}>")
    card = await _press(r, fake, buttons(card)["Move to waiting list"])
    assert "waiting" in str(card)


async def test_the_inbox_resolve_button_over_slack(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.pair()
    await type_in_dm(r, DOCTOR, "Hi, can we change our meeting day please?")
    await r.deliver()
    [card] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "change our meeting day" in str(m)]
    assert "Resolved" in str(await _press(r, fake, buttons(card["blocks"])["Resolve"]))
    assert "already resolved" in str(await _press(r, fake, buttons(card["blocks"])["Resolve"]))
    assert "is empty" in str(await _reply(r, fake, "inbox"))


async def test_coordinator_remove_announce_edit_and_contact_over_slack(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.pair()
    assert "now coordinates" in str(await _reply(r, fake, f"coordinator add <@{MANAGER}>"))
    assert "no longer coordinates" in str(await _reply(r, fake, f"coordinator remove <@{MANAGER}>"))
    assert "the only coordinator" in str(await _reply(r, fake, f"coordinator remove <@{COORDINATOR}>"))

    await _form(r, fake, "announce", {"text": "Drinks on Friday", "audience": "matched"})
    [preview] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "Send to 2 people" in str(m)]
    edited = await _form(r, fake, buttons(preview["blocks"])["Edit"], {"text": "Drinks on Friday at six",
                                                                       "audience": "everyone"})  # fmt: skip
    assert "Drinks on Friday at six" in edited

    opened = len(fake.calls_to("views.open"))
    await r.say(DOCTOR, "contact")
    view = fake.calls_to("views.open")[opened].args["view"]
    assert view["callback_id"] == "contact"
    sent = await r.slack.submit(view, {"text": "Can I change my buddy?"}, DOCTOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    await r.deliver()
    assert "Can I change my buddy?" in str(fake.messages_in(fake.open_dm(COORDINATOR)))


def _people(fake: FakeSlack, prefix: str, count: int) -> list[str]:
    """``count`` more people in the workspace, as users.info would describe them."""
    ids = []
    for n in range(count):
        uid, name = f"U0{prefix}{n:05d}", f"{prefix.title()} Person {n}"
        fake.users[uid] = {"id": uid, "team_id": TEAM, "name": f"{prefix}{n}", "real_name": name,
                           "deleted": False, "profile": {"display_name": name, "real_name": name,
                                                         "email": f"{prefix}{n}@nhs.net"}}  # fmt: skip
        ids.append(uid)
    return ids


async def test_the_groups_list_pages_with_previous_and_next(round_: Round, fake: FakeSlack) -> None:
    """Sixteen groups: the first page shows fifteen with Next; Next shows the last with Previous."""
    r = round_
    await r.say(COORDINATOR, "cohort create June")
    for uid in _people(fake, "DOC", 16):
        await r.register(uid, fake.users[uid]["real_name"], "clinician")
    for uid in _people(fake, "MAN", 16):
        await r.register(uid, fake.users[uid]["real_name"], "general_manager")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")

    first = await _reply(r, fake, "groups")
    assert "Page 1 of 2" in str(first) and len(first) <= 50
    assert str(first).count("End group") == 15
    assert "Previous page" not in buttons(first)
    second = await _press(r, fake, buttons(first)["Next page"])
    assert "Page 2 of 2" in str(second) and str(second).count("End group") == 1
    assert "Next page" not in buttons(second)
    back = await _press(r, fake, buttons(second)["Previous page"])
    assert "Page 1 of 2" in str(back) and str(back).count("End group") == 15
    # a page that does not exist, typed or forged, is a polite answer
    assert "only 2 pages" in str(await _reply(r, fake, "groups page=3"))
    forged = {
        **buttons(second)["Previous page"],
        "value": buttons(second)["Previous page"]["value"][:-1] + "9",
    }
    assert "only 2 pages" in str(await _press(r, fake, forged))


async def test_a_late_joiner_is_matched_when_the_coordinator_approves(round_: Round, fake: FakeSlack) -> None:
    """Someone waits; a manager who fits joins; the coordinator presses Match them; both meet."""
    r = round_
    await r.say(COORDINATOR, "cohort create June")
    await r.register(DOCTOR, "Asha Patel", "clinician")
    await r.register("U0CCC003", "Chloe Wright", "clinician")
    await r.register(MANAGER, "Ben Okafor", "general_manager")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()
    waiting = await _reply(r, fake, "waiting")
    assert "1. Chloe Wright" in str(waiting) or "Chloe Wright" in str(waiting)

    await r.register("U0DDD004", "Dev Sharma", "general_manager")
    await r.deliver()
    [ask] = [m for m in fake.messages_in(fake.open_dm(COORDINATOR)) if "Match them" in str(m)]
    assert "Dev Sharma" in ask["text"] and "Chloe Wright" in ask["text"]
    answer = await _press(r, fake, buttons(ask["blocks"])["Match them"])
    assert "introduced Chloe Wright and Dev Sharma" in str(answer)
    await r.deliver()
    groups = [c for c in fake.conversations.values() if c.kind == "mpim"]
    assert any({"U0CCC003", "U0DDD004"} <= set(c.members) for c in groups)
    # pressed again: they are matched now, so nothing happens twice
    assert "nothing to do" in str(await _press(r, fake, buttons(ask["blocks"])["Match them"]))
    # a buddy cannot press it
    assert "coordinator" in str(await _press(r, fake, buttons(ask["blocks"])["Match them"], user=DOCTOR))


async def test_status_buttons_and_a_second_task_over_slack(round_: Round, fake: FakeSlack) -> None:
    """The status card's Spreadsheet and Chart buttons upload files; a second task warns first,
    Send anyway posts it, and a buddy's `task` lists both."""
    r = round_
    await r.pair()
    status = await _reply(r, fake, "status")
    before = len(fake.files)
    await _press(r, fake, buttons(status)["Chart"])
    await _press(r, fake, buttons(status)["Spreadsheet"])
    await fake.wait_for(lambda: len(fake.files) >= before + 2)
    names = sorted(name for name, _ in list(fake.files.values())[before:])
    assert names[0].endswith(".png") and names[1].endswith(".xlsx")

    await r.say(COORDINATOR, "task send")
    await r.deliver()
    warned = await _reply(r, fake, "task send virtual_shadowing")
    assert "1 group still has a task open" in str(warned)
    assert "Posted the task to 1 group." in str(await _press(r, fake, buttons(warned)["Send anyway"]))
    await r.deliver()
    mine = await r.say(DOCTOR, "task")
    assert mine is not None and "2 open" in mine["text"]
    assert "*Problem page*" in str(mine["blocks"]) and "*Virtual shadowing*" in str(mine["blocks"])


async def test_alerts_that_tell_the_truth_over_slack(round_: Round, fake: FakeSlack, clock: Any) -> None:
    """Ten days on: a whole silent group gets End group: all to waiting list; when one has written
    and the other is silent, Re-match the one waiting finds her someone new."""
    from datetime import timedelta

    r = round_
    await r.pair()
    await r.say(COORDINATOR, "task send")
    await r.deliver()
    start = clock.now()
    clock.set(start + timedelta(days=10))
    await r.say(COORDINATOR, "nudge")
    await r.deliver()
    dm = fake.open_dm(COORDINATOR)
    [alert] = [m for m in fake.messages_in(dm) if "End group: all to waiting list" in str(m)]
    assert "Asha Patel" in str(alert["blocks"]) and "Ben Okafor" in str(alert["blocks"])
    assert "Message the group" in buttons(alert["blocks"])
    ended = await _press(r, fake, buttons(alert["blocks"])["End group: all to waiting list"])
    assert "Asha Patel and Ben Okafor are now on the waiting list" in str(ended)

    # a new round: Asha writes her letter, Ben stays silent; Chloe waits for a buddy
    await r.register("U0CCC003", "Chloe Wright", "general_manager")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()
    await r.say(COORDINATOR, "task send")
    await r.deliver()
    groups = [c.id for c in fake.conversations.values() if c.kind == "mpim" and DOCTOR in c.members]
    respond = r.button(groups[-1], "Respond")
    opened = len(fake.calls_to("views.open"))
    await r.slack.press(respond["action_id"], respond["value"], DOCTOR, channel=groups[-1])
    await r.slack.settle()
    view = fake.calls_to("views.open")[opened].args["view"]
    letter = "Managers juggle the rota every single week, which I never saw before this scheme."
    assert (await r.slack.submit(view, {"answer": letter}, DOCTOR)).status == 200
    await r.slack.settle()
    clock.set(start + timedelta(days=20))
    await r.say(COORDINATOR, "nudge")
    await r.deliver()
    [jilted] = [m for m in fake.messages_in(dm) if "Re-match the one waiting" in str(m)]
    said = str(jilted["blocks"])
    assert "*Chloe Wright* (June) has been quiet" in said and "Asha Patel" in said and "is waiting" in said
    await r.register("U0DDD004", "Dev Sharma", "general_manager")  # someone new for Asha (Ben was her buddy)
    rematched = await _press(r, fake, buttons(jilted["blocks"])["Re-match the one waiting"])
    assert "Asha Patel has a new buddy, Dev Sharma, and I've introduced them" in str(rematched)
    assert "(match" not in str(rematched)
