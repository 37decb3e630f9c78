"""``buddybot demo``: a whole round of a buddy scheme, end to end, on a fresh SQLite file.

Thirty fictional people register (a CSV survey export), the coordinator previews and confirms
matches, buddies are introduced, the first task goes out, some answer and some go quiet, the
clock moves on until nudges and a coordinator alert fire, and a jilted buddy is re-matched. Then
the rest of the programme: the week-one "did you meet?" check-in (one group asks for help), a late
joiner moves the waiting list, a task is finished and rated, a portfolio PDF is made, the
coordinator ends the round, buddies answer the evaluation, finishers get certificates (PDF files
written next to the database) and the next cohort is copied from this one.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TextIO

from adapters.memory.chat import Chat
from adapters.memory.messenger import MemoryMessenger
from bot.bootstrap import bootstrap
from conversations.core.clock import FakeClock
from conversations.core.interactions import Reply
from conversations.flows import programme
from conversations.ports.messenger import Capabilities

COORDINATOR = "UCOORD"
COHORT = "Yorkshire & Humber 2026"
START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
LETTER = ("Dear Buddy, our discharge meeting was moved three times in a week with no explanation, and the "
          "patients waiting for it stayed in beds they did not need. Nobody asked the ward what the new time "
          "meant for us. How do I raise this without sounding like I am just complaining about managers?")  # fmt: skip
REPLY = ("Dear colleague, the meeting probably moved because a bed-flow escalation pulled the managers into "
         "another room. Ask the service manager for ten minutes to agree a fixed slot and a named deputy, and "
         "offer your ward's data on delayed discharges: it turns a complaint into a shared problem to solve.")  # fmt: skip


def demo_csv() -> str:
    return (resources.files("bot") / "data" / "demo_registrations.csv").read_text(encoding="utf-8")


def run_demo(database: Path, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)  # a fresh file every run
    clock = FakeClock(START)
    messenger = MemoryMessenger("memory", Capabilities(group_dm=True, home_tab=True, send_files=True))
    buddy = bootstrap(
        f"sqlite:///{database}",
        {"memory": messenger},
        clock=clock,
        seed=2026,
        admins=(f"T-DEMO:{COORDINATOR}",),
    )
    chat = Chat(buddy.engine, messenger, buddy.sender, workspace="T-DEMO")
    chat.person(COORDINATOR, "Rachel (coordinator)")

    def say(title: str) -> None:
        print(f"\n=== {title}", file=out)

    say("The coordinator sets up the cohort and imports the survey export")

    chat.say(COORDINATOR, f"cohort create {COHORT} region=north_east_yorkshire")
    print("Coordinator sees:", chat.last_reply(COORDINATOR), file=out)
    report = buddy.engine.import_csv(COHORT, demo_csv(), skip_invalid=False)
    print(report.summary(), file=out)
    names = _names(buddy)
    for uid, name in names.items():
        chat.person(uid, name)

    say("A late joiner registers through the form")
    chat.person("U031", "Ewan Lloyd", "ewan.lloyd@example.nhs.uk")
    chat.say("U031", "join")
    chat.submit("U031", {"display_name": "Ewan Lloyd", "role": "general_manager", "grade": "GMTS year 1",
                         "employer": "Eastbrook Hospitals NHS Trust", "employer_type": "acute", "region": "north_west",
                         "interests": ("research",), "consent_data": True})  # fmt: skip
    print("Ewan sees:", chat.last("U031"), file=out)

    say("Match preview (what the coordinator sees)")
    chat.say(COORDINATOR, "match preview")
    print(chat.last_reply(COORDINATOR), file=out)
    outcome = chat.say(COORDINATOR, "match confirm")
    assert isinstance(outcome, Reply)
    print(chat.last_reply(COORDINATOR), file=out)

    say("Asha's introduction, in the group conversation with her buddy")
    print(_post_with(chat, "U001", "Meet your buddy"), file=out)

    say("The first task goes out")
    chat.say(COORDINATOR, "task send")
    print(chat.last_reply(COORDINATOR), file=out)
    print(_post_with(chat, "U001", "Task 1"), file=out)

    say("Some buddies write their letters; others stay quiet")
    answered = _answer_some(chat, buddy)
    print(f"{len(answered)} people sent a letter.", file=out)
    print("Asha's buddy was told:", _last_with(chat, _buddy_of(buddy, "U001"), "sent their"), file=out)

    say("Replies: the form shows the partner's letter")
    chat.press_in_last(_buddy_of(buddy, "U001"), "Respond")
    form = chat.person(_buddy_of(buddy, "U001")).open_form
    assert form is not None
    print(
        "Form shows:",
        " | ".join(getattr(f, "text", getattr(f, "label", ""))[:80] for f in form.fields),
        file=out,
    )
    too_long = " ".join(["word"] * 130)
    chat.submit(_buddy_of(buddy, "U001"), {"answer": too_long})
    print("Too long:", chat.last(_buddy_of(buddy, "U001")), file=out)
    chat.submit(_buddy_of(buddy, "U001"), {"answer": REPLY})
    print("Accepted:", chat.last(_buddy_of(buddy, "U001")), file=out)

    for days, label in ((4, "pair nudges"), (7, "individual nudges"), (10, "coordinator alerts")):
        clock.set(START.replace(day=START.day + days))
        say(f"Day {days}: the inactivity sweep sends {label}")
        chat.say(COORDINATOR, "nudge")
        print(chat.last_reply(COORDINATOR), file=out)

    say("The coordinator's alert, and a re-match for the jilted buddy")
    alert = _last_with(chat, COORDINATOR, "has been quiet")
    print(alert, file=out)
    chat.press_in_last(COORDINATOR, "Re-match the one waiting")
    print(chat.last_reply(COORDINATOR), file=out)

    say("The coordinator lists the groups (`groups`), then the quiet ones (`groups quiet`)")
    chat.say(COORDINATOR, "groups")
    print(chat.last_reply(COORDINATOR), file=out)
    chat.say(COORDINATOR, "groups quiet")
    print(chat.last_reply(COORDINATOR), file=out)

    partner = _buddy_of(buddy, "U001")
    _programme(chat, buddy, clock, database, out)

    say("Transcripts")
    for uid in ("U001", partner):
        print(f"--- {names.get(uid, uid)} saw:", file=out)
        print(chat.transcript(uid), file=out)

    say("Final status")
    chat.say(COORDINATOR, "status")
    print(chat.last_reply(COORDINATOR), file=out)
    return 0


def _programme(chat: Chat, buddy, clock: FakeClock, database: Path, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    """The programme around the tasks, from the week-one check-in to the next cohort."""

    def say(title: str) -> None:
        print(f"\n=== {title}", file=out)

    def tick() -> None:
        with buddy.uow() as uow:
            cohort_id = uow.cohorts.by_name(COHORT).id
        buddy.engine.reconcile(cohort_id)
        buddy.engine.run(lambda ctx: programme.cohort_tick(ctx, cohort_id))
        chat.deliver()

    asha, partner = "U001", _buddy_of(buddy, "U001")
    say("A week in: did you meet?")
    tick()
    print("Asha sees:", _last_with(chat, asha, "Did you meet"), file=out)
    chat.press_in_last(asha, "Yes")
    print("Asha taps Yes:", chat.last_reply(asha), file=out)
    quiet = next(
        uid for uid in _names(buddy) if uid not in (asha, partner) and "Did you meet" in chat.transcript(uid)
    )
    chat.press_in_last(quiet, "Need help")
    print(
        "Another buddy taps Need help; it lands in the coordinators' inbox:",
        _last_with(chat, COORDINATOR, "wrote to the coordinators"),
        file=out,
    )

    say("The waiting list moves by itself: a late joiner fits the longest-waiting person")
    waiting = [uid for uid in _names(buddy) if "waiting list" in chat.transcript(uid)]
    if waiting:
        print(
            f"{_names(buddy)[waiting[0]]} asks `where am i`:",
            chat.say(waiting[0], "where am i").seen[-1],
            file=out,
        )
    chat.say(COORDINATOR, "waiting auto")
    chat.person("U032", "Fatima Khan", "fatima.khan@example.nhs.uk")
    for role, grade in (("general_manager", "GMTS year 2"), ("clinician", "CT2")):
        if not waiting:
            break
        chat.say("U032", "join")
        chat.submit("U032", {"display_name": "Fatima Khan", "role": role, "grade": grade, "profession": "doctor",
                             "employer": "Eastbrook Hospitals NHS Trust", "employer_type": "acute",
                             "region": "north_west", "interests": ("research",), "consent_data": True})  # fmt: skip
        print("Fatima sees:", chat.last_reply("U032"), file=out)
        break

    say("Asha replies to her buddy's letter, finishes the task and rates it")
    first = next(b for b in chat.buttons(asha) if b.label == "Respond")  # the first task's button
    chat.press(asha, first.action_id, first.value)
    chat.submit(asha, {"answer": REPLY})
    print("Asha sees:", chat.last_reply(asha), file=out)
    print("The group sees:", _last_with(chat, asha, "Well done"), file=out)
    chat.press_in_last(asha, "5")
    print("Asha taps 5:", chat.last_reply(asha), file=out)
    chat.press_in_last(partner, "4")

    say("Asha's tasks and her portfolio (PDF, ready for an e-portfolio)")
    print(chat.say(asha, "task").seen[-1], file=out)
    said = chat.say(asha, "portfolio")
    print(said.seen[-1], file=out)
    _save(said.outcome, database, out)

    say("The coordinator ends the round: groups are thanked, the survey and certificates go out")
    chat.say(COORDINATOR, "round end")
    print(chat.last_reply(COORDINATOR), file=out)
    print("Asha's group sees:", _last_with(chat, asha, "has come to an end"), file=out)
    chat.press_in_last(asha, "Answer the survey")
    chat.submit(asha, {"understand": "5", "confidence": "4", "recommend": "yes",
                       "change": "A face-to-face meeting at the start."})  # fmt: skip
    print("Asha answers the survey:", chat.last_reply(asha), file=out)
    clock.set(clock.now() + timedelta(days=3))
    tick()
    print("Three days on, a reminder:", _last_with(chat, partner, "A reminder: the survey"), file=out)
    said = chat.press_in_last(asha, "Get my certificate")
    print("Asha's certificate:", chat.last_reply(asha), file=out)
    _save(said.outcome, database, out)

    say("The coordinator's figures")
    chat.say(COORDINATOR, "status")
    print(chat.last_reply(COORDINATOR), file=out)

    say("The next cohort starts from this one")
    chat.say(COORDINATOR, "cohort copy Yorkshire 2027")
    print(chat.last_reply(COORDINATOR), file=out)
    print("Asha is invited:", _last_with(chat, asha, "new cohort"), file=out)


def _save(outcome: object, database: Path, out: TextIO) -> None:
    """Write the file a reply carried (a portfolio, a certificate) next to the database."""
    file = outcome.message.file if isinstance(outcome, Reply) else None
    if file is None:
        return
    path = database.with_name(file.filename)
    path.write_bytes(file.payload())
    print(f"(wrote {path}, {path.stat().st_size} bytes)", file=out)


def _names(buddy) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with buddy.uow() as uow:
        cohort = uow.cohorts.by_name(COHORT)
        return {p.user_id: p.display_name for p in uow.participants.in_cohort(cohort.id)}


def _buddy_of(buddy, user_id: str) -> str:  # type: ignore[no-untyped-def]
    with buddy.uow() as uow:
        cohort = uow.cohorts.by_name(COHORT)
        me = next(p for p in uow.participants.in_cohort(cohort.id) if p.user_id == user_id)
        match = uow.matches.active_for(me.id)
        return next(m.user_id for m in uow.matches.members(match.id) if m.id != me.id)


def _answer_some(chat: Chat, buddy) -> list[str]:  # type: ignore[no-untyped-def]
    """Everyone in the first groups writes a letter; the last few groups stay quiet."""
    with buddy.uow() as uow:
        cohort = uow.cohorts.by_name(COHORT)
        matches = uow.matches.active_in(cohort.id)
        groups = [[m.user_id for m in uow.matches.members(match.id)] for match in matches]
    answered = []
    for number, group in enumerate(groups):
        writers = group if number < len(groups) - 4 else group[:1] if number < len(groups) - 2 else []
        for uid in writers:
            chat.press_in_last(uid, "Respond")
            chat.submit(uid, {"answer": LETTER})
            answered.append(uid)
    return answered


def _post_with(chat: Chat, user_id: str, needle: str) -> str:
    for post in chat.messenger.seen(user_id):
        if needle in post.text:
            return post.text
    return f"(no post containing {needle!r})"


def _last_with(chat: Chat, user_id: str, needle: str) -> str:
    for text in reversed(chat.log[user_id]):
        if needle in text:
            return text
    return f"(nothing containing {needle!r})"
