"""Activities posted to /api/messages on a real server; replies captured by a fake Bot Connector."""

from __future__ import annotations

from conversations.core.interactions import (
    ButtonPressed,
    CloseForm,
    CommandInvoked,
    FormErrors,
    FormSubmitted,
    Installed,
    Reply,
    ShowForm,
)
from conversations.core.views import Checkbox, Form, LongText, Message, MultiSelect, Option, ShortText
from tests.teams.fake_teams import BOT_ID, TENANT, account, activity, bot_added, invoke, message

FORM = Form(
    form_id="register",
    title="Join the buddy scheme",
    fields=(
        ShortText("name", "Your name"),
        MultiSelect("interests", "Interests", (Option("a", "Audit"), Option("b", "Budgets"))),
        Checkbox("consent", "I agree", required=True),
        LongText("about", "About you", word_limit=100, required=False),
    ),
    submit_label="Join",
    state="cohort=7",
)


async def test_a_chat_message_is_a_command_and_the_reply_lands_in_the_same_chat(harness):
    harness.engine.answer = lambda i: Reply(Message.simple("Hello **there**"))
    status, _ = await harness.post(message(harness.service_url, "help"))
    assert status == 200
    [interaction] = harness.engine.interactions
    assert isinstance(interaction, CommandInvoked)
    assert interaction.text == "help"
    assert interaction.actor.ref.user_id == "alice"  # the AAD object id
    assert interaction.actor.ref.workspace == TENANT
    [reply] = harness.connector.sent("a:personal-alice")
    assert reply.method == "POST"
    card = reply.body["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Hello **there**"
    assert reply.body["summary"] == "Hello there"


async def test_the_bots_mention_is_stripped_in_a_group_chat_and_others_become_user_ids(harness):
    group = {"id": "19:group@thread.v2", "conversationType": "groupChat", "tenantId": TENANT, "isGroup": True}
    text = "<at>Buddy</at> match swap <at>Bob Jones</at> &amp; more"
    entities = [
        {"type": "mention", "text": "<at>Buddy</at>", "mentioned": {"id": BOT_ID, "name": "Buddy"}},
        {"type": "mention", "text": "<at>Bob Jones</at>", "mentioned": {"id": "29:bob", "name": "Bob Jones"}},
    ]
    # bob wrote to the bot once, so his Bot Framework id is known to map to his AAD id
    await harness.post(message(harness.service_url, "hi", user="bob"))
    await harness.post(message(harness.service_url, text, conversation=group, entities=entities))
    assert harness.engine.interactions[-1].text == "match swap @bob & more"


async def test_a_button_press_arrives_as_a_message_with_a_value(harness):
    value = {"action_id": "task.answer", "value": "42"}
    await harness.post(message(harness.service_url, "", value=value, replyToId="card-1"))
    [pressed] = harness.engine.interactions
    assert isinstance(pressed, ButtonPressed)
    assert (pressed.action_id, pressed.value) == ("task.answer", "42")
    assert pressed.message is not None and pressed.message.message_id == "card-1"


async def test_a_command_that_shows_a_form_replies_with_a_button_that_opens_the_dialog(harness):
    harness.engine.answer = lambda i: ShowForm(FORM)
    await harness.post(message(harness.service_url, "join"))
    [card] = harness.connector.cards()
    [action] = card["actions"]
    assert action["type"] == "Action.Submit"
    assert action["data"]["msteams"] == {"type": "task/fetch"}

    # Teams sends the click as task/fetch with the button's data; the answer is the dialog
    status, body = await harness.post(invoke(harness.service_url, "task/fetch", {"data": action["data"]}))
    assert status == 200
    assert body["task"]["type"] == "continue"
    dialog = body["task"]["value"]
    assert dialog["title"] == "Join the buddy scheme"
    ids = [e.get("id") for e in dialog["card"]["content"]["body"]]
    assert ids[:3] == ["name", "interests", "consent"]
    assert len(harness.engine.interactions) == 1  # opening the dialog needs no second engine call


async def _open_dialog(harness):
    harness.engine.answer = lambda i: ShowForm(FORM)
    await harness.post(message(harness.service_url, "join"))
    [card] = harness.connector.cards()
    _, body = await harness.post(
        invoke(harness.service_url, "task/fetch", {"data": card["actions"][0]["data"]})
    )
    return body["task"]["value"]["card"]["content"]


async def test_a_rejected_submission_shows_the_dialog_again_with_errors_and_what_was_typed(harness):
    dialog = await _open_dialog(harness)
    submit = dialog["actions"][0]["data"]
    typed = {**submit, "name": "Al *ice*", "interests": "a,b", "consent": "false", "about": ""}
    harness.engine.answer = lambda i: FormErrors({"consent": "Please agree to take part."})
    status, body = await harness.post(invoke(harness.service_url, "task/submit", {"data": typed}))
    assert status == 200
    [*_, submitted] = harness.engine.interactions
    assert isinstance(submitted, FormSubmitted)
    assert submitted.form_id == "register" and submitted.state == "cohort=7"
    assert submitted.values == {"name": "Al *ice*", "interests": ("a", "b"), "consent": False, "about": ""}
    again = body["task"]["value"]["card"]["content"]["body"]
    by_id = {e["id"]: e for e in again if "id" in e}
    assert by_id["name"]["value"] == "Al *ice*"
    assert by_id["interests"]["value"] == "a,b"
    assert by_id["consent"]["errorMessage"] == "Please agree to take part."
    visible = [e["text"] for e in again if e["type"] == "TextBlock" and e.get("color") == "Attention"]
    assert "Please agree to take part." in visible


async def test_an_accepted_submission_closes_the_dialog_and_confirms_in_the_chat(harness):
    dialog = await _open_dialog(harness)
    data = {**dialog["actions"][0]["data"], "name": "Alice", "interests": "", "consent": "true"}
    harness.engine.answer = lambda i: CloseForm(Message.simple("Welcome aboard"))
    before = len(harness.connector.sent())
    status, body = await harness.post(invoke(harness.service_url, "task/submit", {"data": data}))
    assert (status, body) == (200, None)
    assert harness.engine.interactions[-1].values["consent"] is True
    [confirmation] = harness.connector.sent()[before:]
    assert confirmation.body["attachments"][0]["content"]["body"][0]["text"] == "Welcome aboard"


async def test_invokes_with_a_body_answer_200_despite_the_botbuilder_4_17_1_bug(harness):
    """Stock 4.17.1 CloudAdapter answers 500 ('dict' object has no attribute 'is_xml_model')."""
    status, body = await harness.post(invoke(harness.service_url, "task/fetch", {"data": {}}))
    assert status == 200
    assert body == {"task": {"type": "message", "value": "Nothing to open here."}}


async def test_installing_the_app_is_one_installed_interaction(harness):
    status, _ = await harness.post(bot_added(harness.service_url))
    install = activity("installationUpdate", harness.service_url, action="add")
    status2, _ = await harness.post(install)
    assert (status, status2) == (200, 200)
    [installed] = harness.engine.interactions
    assert isinstance(installed, Installed)
    assert installed.conversation is not None
    assert installed.conversation.conversation_id == "a:personal-alice"


async def test_an_activity_delivered_twice_acts_once(harness):
    harness.engine.answer = lambda i: Reply(Message.simple("once"))
    first = message(harness.service_url, "status", activity_id="dup-1")
    assert (await harness.post(first))[0] == 200
    assert (await harness.post(dict(first)))[0] == 200
    assert len(harness.engine.interactions) == 1
    assert len(harness.connector.sent()) == 1


async def test_a_repeated_dialog_submission_gets_the_same_answer_without_acting_again(harness):
    dialog = await _open_dialog(harness)
    data = {**dialog["actions"][0]["data"], "name": "", "consent": "false"}
    harness.engine.answer = lambda i: FormErrors({"name": "Tell us your name."})
    submission = invoke(harness.service_url, "task/submit", {"data": data}, activity_id="submit-1")
    first = await harness.post(submission)
    again = await harness.post(dict(submission))
    assert first == again
    assert sum(isinstance(i, FormSubmitted) for i in harness.engine.interactions) == 1


async def test_the_senders_upn_is_read_from_the_roster_once(harness):
    harness.connector.members["29:alice"] = {**account("alice"), "userPrincipalName": "alice@nhs.example"}
    await harness.post(message(harness.service_url, "status"))
    await harness.post(message(harness.service_url, "help"))
    assert [i.actor.email for i in harness.engine.interactions] == ["alice@nhs.example"] * 2
    assert sum(c.method == "GET" for c in harness.connector.calls) == 1


async def test_bad_requests_are_client_errors(harness):
    assert (await harness.post({"no": "type"}))[0] == 400


async def test_a_malformed_authorization_header_with_auth_off_is_401_not_500(harness):
    status, _ = await harness.post(
        message(harness.service_url, "help"), {"Authorization": "Basic Zm9vOmJhcg=="}
    )
    assert status == 401
    assert harness.engine.interactions == []
