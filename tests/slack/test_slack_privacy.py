"""People's rights in Slack, over real HTTP: ``mydata`` arrives in the DM as a file, ``forget me``
asks with a button and erases on the press; what the Slack adapter caches is erased too."""

from __future__ import annotations

from typing import Any

from adapters.slack.profiles import Profile, Profiles
from bot.caches import wire_slack
from conversations.core.refs import UserRef
from conversations.flows import erasure, personal
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import TEAM
from tests.slack.round import COORDINATOR, DOCTOR, MANAGER, Round


def buttons(reply: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {el["text"]["text"]: el for b in (reply or {}).get("blocks", []) for el in b.get("elements", [])
            if el.get("type") == "button"}  # fmt: skip


async def test_mydata_is_sent_to_the_dm_as_a_file_in_both_forms(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    await r.register(DOCTOR, "Asha Patel", "clinician")
    reply = await r.say(DOCTOR, "mydata")
    assert "everything Buddy holds about you" in str(reply)
    await r.say(DOCTOR, "mydata json")
    await r.slack.settle()
    done = fake.calls_to("files.completeUploadExternal")
    assert len(done) == 2
    dm = done[0].args["channel_id"]
    assert fake.conversations[dm].kind == "im" and DOCTOR in fake.conversations[dm].members
    files = [fake.files[m["files"][0]["id"]] for m in fake.messages_in(dm) if m.get("files")]
    (md_name, md), (json_name, raw) = files
    assert (
        md_name.endswith(".md")
        and "# What Buddy holds about you" in md.decode()
        and "Asha Patel" in md.decode()
    )
    assert json_name.endswith(".json") and '"consent records"' in raw.decode()


async def test_forget_me_asks_with_a_button_and_erases_on_the_press(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    await r.register(DOCTOR, "Asha Patel", "clinician")
    await r.register(MANAGER, "Ben Okafor", "general_manager")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()
    reply = await r.say(DOCTOR, "forget me")
    assert "Erase everything Buddy holds about you?" in str(reply)
    erase = buttons(reply)["Erase my data"]
    sent = await r.slack.press(erase["action_id"], erase.get("value", ""), DOCTOR)
    assert sent.status == 200
    await r.slack.settle()
    await r.deliver()
    seen = str(fake.responses) + str(fake.calls) + str(sent.text)
    assert "Buddy has erased what it held about you" in seen, seen[-2000:]
    assert any(
        "had to step away" in t or "stepped away" in t for t in r.dm_texts(MANAGER) + r.texts(r.group())
    )
    assert any("asked Buddy to erase their data" in t for t in r.dm_texts(COORDINATOR))
    with r.engine.uow_factory() as uow:
        assert uow.participants.for_user(UserRef("slack", TEAM, DOCTOR)) == []


def test_the_slack_profile_cache_is_erased_through_the_privacy_port(chat) -> None:  # type: ignore[no-untyped-def]
    profiles = Profiles()
    profiles._cache[("T1", "U1")] = (profiles.now(), Profile("Asha Patel", "asha@example.nhs.uk"))
    wire_slack(profiles)
    try:
        user = UserRef("slack", "T1", "U1")
        # (another test may have wired a Teams cache in this process: only the Slack one is looked at)
        assert personal.export_caches(user)["Slack profile cache"] == {"name": "Asha Patel",
                                                                       "email": "asha@example.nhs.uk"}  # fmt: skip
        assert personal.erase_caches(user, ["Asha Patel"])["Slack profile cache"] == 1
        assert profiles.cached("T1", "U1") is None
        assert "Slack profile cache" not in personal.export_caches(
            UserRef("teams", "T1", "U1")
        )  # another platform
    finally:
        personal.CACHES.pop("Slack profile cache", None)
    assert erasure  # the erasure flow reaches caches through personal.erase_caches (see forget)


async def test_a_registration_with_patient_data_comes_back_in_the_modal_naming_it(
    round_: Round, fake: FakeSlack
) -> None:
    from tests.engine.helpers import registration

    r = round_
    await r.say(COORDINATOR, "cohort create North")
    opened = len(fake.calls_to("views.open"))
    await r.say(DOCTOR, "join")
    view = fake.calls_to("views.open")[opened].args["view"]
    assert "Privacy notice" in str(view["blocks"])  # the notice and its version, above the fields
    sent = await r.slack.submit(view, registration("Asha Patel", employer="MRN 1234567 Mr Smith"), DOCTOR)
    body = sent.json()
    assert body["response_action"] == "errors"
    assert "a hospital or record number next to a name" in body["errors"]["employer"]
    assert "1234567" not in str(body)
    with r.engine.uow_factory() as uow:
        assert uow.participants.for_user(UserRef("slack", TEAM, DOCTOR)) == []


async def test_notice_consent_records_and_the_audit_through_slash_commands(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    await r.register(DOCTOR, "Asha Patel", "clinician")
    assert "Privacy notice" in str(await r.say(DOCTOR, "privacy"))
    assert "agreed (participation" in str(await r.say(DOCTOR, "consent"))
    assert "won't be quoted" in str(await r.say(DOCTOR, "consent withdraw quotes"))
    assert "withdrew (quotes" in str(await r.say(DOCTOR, "consent"))
    await r.say(COORDINATOR, "export")
    audit = str(await r.say(COORDINATOR, "audit"))
    assert "export in North by U0COORD1 (rows 1" in audit and "cohort create in North" in audit
    assert "for scheme coordinators" in str(await r.say(DOCTOR, "audit"))
