"""What people see about themselves and their cohort: status, home, export, digest, community."""

from __future__ import annotations

import csv
import io

from conversations.core.interactions import Reply, ShowForm
from conversations.core.views import Actions
from tests.engine.helpers import ADMIN, cohort, matched_pair, register


def test_status_shows_the_buddy_and_current_task(chat):
    matched_pair(chat)
    chat.say("U1", "status")
    assert "you're matched" in chat.last("U1") and "Your buddy: Ben Okafor" in chat.last("U1")
    chat.say(ADMIN, "task send")
    chat.say("U1", "status")
    assert "Current task: Problem page, due Mon 14 Sep (not started)" in chat.last_reply("U1")
    chat.say("U9", "status")
    assert "not in a buddy scheme yet" in chat.last("U9")


def test_coordinators_see_their_cohorts_figures(chat):
    matched_pair(chat)
    register(chat, "U3", "Cara", "general_manager")
    chat.say(ADMIN, "status")
    text = chat.last(ADMIN)
    assert "Test Cohort (you coordinate)" in text
    assert "Matched: 2 people in 1 group" in text and "Registered, not yet matched: 1" in text


def test_home_view_for_members_and_newcomers(chat):
    matched_pair(chat)
    home = chat.open_home("U1")
    labels = [b.label for block in home.blocks if isinstance(block, Actions) for b in block.buttons]
    assert "Edit profile" in labels and "Pause" in labels
    chat.press("U1", "pause")
    paused = chat.open_home("U1")
    labels = [b.label for block in paused.blocks if isinstance(block, Actions) for b in block.buttons]
    assert "Resume" in labels and "Pause" not in labels
    newcomer = chat.open_home("U9")
    labels = [b.label for block in newcomer.blocks if isinstance(block, Actions) for b in block.buttons]
    assert labels[0] == "Join the scheme"


def test_export_is_csv_and_defuses_spreadsheet_formulas(chat):
    cohort(chat)
    register(chat, "U1", '=HYPERLINK("http://x")', employer="+44 Trust")
    chat.say(ADMIN, "export")
    from conversations.flows.coordination import export_csv

    text = chat.engine.run(lambda ctx: export_csv(ctx, ctx.uow.cohorts.get(1)))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["name", "user_id", "email", "role"]
    assert rows[1][0].startswith("'=") and rows[1][6].startswith("'+")
    assert "1 person" in chat.last(ADMIN)


def test_digest_shares_quotes_only_from_people_who_agreed(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel", consent_share=True)
    register(chat, "U2", "Ben Okafor", "general_manager", consent_share=False)
    chat.say(ADMIN, "digest")
    assert "Nobody has answered a task yet" in chat.last(ADMIN)
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": "Shared: clinicians and managers want the same thing for patients."})
    chat.press_in_last("U2", "Respond")
    chat.submit("U2", {"answer": "Private: this should never be quoted to the cohort at all."})
    form = chat.say(ADMIN, "digest").expect("[form: Learning points]").form
    [points] = [f for f in form.fields if getattr(f, "id", "") == "points"]
    assert "want the same thing for patients" in points.initial and "Private" not in points.initial
    assert "Asha" not in points.initial  # without names
    chat.submit(ADMIN, {"intro": "", "points": "", "send_to": "channel", "channel": "nope"}).expect(
        "intro: Please write an opening line",
        "points: Please keep at least one",
        "channel: Paste the channel's link",
    )
    edited = points.initial + "\n- And a point of my own."
    chat.submit(
        ADMIN,
        {"intro": "From week one:", "points": edited, "send_to": "both", "channel": "<#C0LEARN1|learning>"},
    ).expect(
        "Preview",
        "And a point of my own.",
        "To: 2 people and the channel. Quotes 1 answer.",
        "[Send digest] [Edit digest]",
    )
    chat.press_in_last(ADMIN, "Edit digest").expect("[form: Learning points]")
    chat.submit(ADMIN, {"intro": "From week one:", "points": edited, "send_to": "cohort", "channel": ""})
    chat.press_in_last(ADMIN, "Send digest").expect("Sent the learning points to 2 people.")
    digest = [p.text for p in chat.messenger.seen("U2") if "Learning points" in p.text][0]
    assert "want the same thing for patients" in digest and "Private" not in digest and "Asha" not in digest
    assert "And a point of my own." in digest
    chat.press_in_last(ADMIN, "Send digest").expect("already been sent or replaced")
    assert sum("Learning points" in p.text for p in chat.messenger.seen("U2")) == 1  # once
    with chat.engine.uow_factory() as uow:
        [entry] = [a for a in uow.audit.for_cohort(1) if a.action == "digest"]
        assert len(entry.detail["quoted"]) == 1  # which answers it quoted
    chat.say(ADMIN, "digest nosuch").expect("Nobody has answered “nosuch” yet")


def test_digest_to_a_channel(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel", consent_share=True)
    register(chat, "U2", "Ben Okafor", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": "Shared: clinicians and managers want the same thing for patients."})
    chat.messenger.members["C0LEARN1"] = ("U1", "U2", "U5")  # the community channel
    chat.say(ADMIN, "digest problem_page")
    chat.submit(ADMIN, {"intro": "Hello", "points": "- one", "send_to": "channel", "channel": "C0LEARN1"})
    chat.press_in_last(ADMIN, "Send digest").expect("Sent the learning points to the channel.")
    assert any(p.conversation.conversation_id == "C0LEARN1" for p in chat.messenger.posts)


def test_joining_a_channel_brings_one_welcome_with_a_join_button(chat):
    cohort(chat)
    chat.join_channel("U7", "C-OPS")
    chat.join_channel("U7", "C-OTHER")
    welcomes = [p for p in chat.messenger.seen("U7") if "Welcome to the network" in p.text]
    assert len(welcomes) == 1 and welcomes[0].buttons()[0].action_id == "join"
    register(chat, "U8", "Already In")
    chat.join_channel("U8", "C-OPS")
    assert not [p for p in chat.messenger.seen("U8") if "Welcome" in p.text]


def test_being_installed_says_hello_and_what_buddy_does(chat):
    from conversations.core.interactions import Installed, Reply

    outcome = chat._do("U1", Installed(chat.actor("U1")))
    assert isinstance(outcome, Reply)
    assert "Hello! I'm Buddy" in chat.last("U1") and "`join [cohort]`" in chat.last("U1")


def test_export_comes_as_a_csv_file_where_the_platform_can_send_files(db, clock):
    from conversations.ports.messenger import Capabilities
    from tests.conftest import make_chat

    chat = make_chat(db, clock, Capabilities(group_dm=True, send_files=True))
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    outcome = chat.say(ADMIN, "export")
    assert isinstance(outcome, Reply) and outcome.message.file is not None
    file = outcome.message.file
    assert file.filename == f"buddy-test-cohort-{clock.now():%Y-%m-%d}.csv"
    assert file.content.splitlines()[1].startswith("Asha Patel,U1,")
    assert "1 person. The CSV file is in our direct messages" in chat.last(ADMIN)


def test_without_files_the_export_shows_its_start_and_says_how_to_get_the_rest(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    outcome = chat.say(ADMIN, "export")
    assert isinstance(outcome, Reply) and outcome.message.file is None
    assert "Asha Patel,U1," in chat.last(ADMIN) and "buddybot export --cohort" in chat.last(ADMIN)


def test_export_rows_show_each_persons_group_tasks_and_answers(chat):
    from conversations.flows.coordination import export_csv

    matched_pair(chat)
    register(chat, "U3", "Cara Jones")  # registered after matching: no group yet
    chat.say(ADMIN, "task send")
    chat.press_in_last("U1", "Respond")
    chat.submit("U1", {"answer": "Dear Ben, a letter."})
    text = chat.engine.run(lambda ctx: export_csv(ctx, ctx.uow.cohorts.get(1)))
    rows = {r["user_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert (rows["U1"]["match_id"], rows["U1"]["buddies"], rows["U1"]["tasks_posted"], rows["U1"]["responses"]) == (
        "1", "Ben Okafor", "1", "1")  # fmt: skip
    assert (rows["U2"]["buddies"], rows["U2"]["responses"]) == ("Asha Patel", "0")
    assert (rows["U3"]["match_id"], rows["U3"]["buddies"], rows["U3"]["tasks_posted"]) == ("", "", "0")


def test_a_coordinators_status_and_home_have_buttons_for_their_cohort(chat):
    matched_pair(chat)
    home = chat.open_home(ADMIN)
    buttons = {b.label: b for block in home.blocks if isinstance(block, Actions) for b in block.buttons}
    assert {"Import registrations", "Match preview", "Export", "Spreadsheet", "Chart"} <= set(buttons)
    assert buttons["Import registrations"].opens_form
    opened = chat.press(
        ADMIN, buttons["Import registrations"].action_id, buttons["Import registrations"].value
    )
    assert isinstance(opened, ShowForm) and opened.form.form_id == "import"
    exported = chat.press(ADMIN, "cohort_export", buttons["Export"].value)
    assert isinstance(exported, Reply) and "2 people" in chat.last(ADMIN)
    refused = chat.press("U1", "cohort_export", buttons["Export"].value)
    assert isinstance(refused, Reply) and "coordinator" in chat.last("U1")
    assert chat.press(ADMIN, "cohort_export", "999") and "no longer exists" in chat.last(ADMIN)
    xlsx = chat.press(ADMIN, "cohort_export_xlsx", buttons["Spreadsheet"].value)
    assert isinstance(xlsx, Reply) and "--format xlsx" in chat.last(ADMIN)  # this chat takes no files
    chart = chat.press(ADMIN, "status_chart", buttons["Chart"].value)
    assert isinstance(chart, Reply) and chart.message.image.png.startswith(b"\x89PNG")
    member_home = chat.open_home("U1")
    labels = [b.label for block in member_home.blocks if isinstance(block, Actions) for b in block.buttons]
    assert not {"Export", "Spreadsheet", "Chart"} & set(labels)


def test_export_neutralises_full_width_formula_characters_too(chat):
    from conversations.flows.coordination import export_csv

    cohort(chat)
    names = {"U1": "＝HYPERLINK(1)", "U2": "＋1", "U3": "－2", "U4": "＠SUM(1)", "U5": "=1+2"}
    for user, name in names.items():
        register(chat, user, name)
    text = chat.engine.run(lambda ctx: export_csv(ctx, ctx.uow.cohorts.get(1)))
    for name in names.values():
        assert f"'{name}" in text, name
