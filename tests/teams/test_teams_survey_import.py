"""A Microsoft Forms workbook imported in Teams, end to end over HTTP: attached in the 1:1 chat with
``import``, the columns mapped in a dialog, the people looked up on the fake Microsoft Graph
(``GET /users/{mail}``), the preview, Import, and a welcome in each person's new 1:1 chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.schedule.email_lookup import EmailLookups
from tests.teams.fake_teams import invoke, message
from tests.teams.test_teams_round import ADMIN, _texts, start_round

FIXTURES = Path(__file__).parent.parent / "surveys" / "fixtures"
PEOPLE = {"asha.patel@nhs.net": ("aad-asha", "Asha Patel"), "ben.okafor@nhs.net": ("aad-ben", "Ben Okafor"),
          "chloe.wright@nhs.net": ("aad-chloe", "Chloe Wright"), "ella.brown@nhs.net": ("aad-ella", "Ella Brontë")}  # fmt: skip


def actions(card: dict) -> list[dict]:
    found = list(card.get("actions", []))
    for element in card.get("body", []):
        found += element.get("actions", [])
    return found


@pytest.mark.parametrize(
    ("export", "missing"),
    [("microsoft_forms.xlsx", 1), ("surveymonkey.xlsx", 1), ("surveymonkey.csv", 2), ("google_forms.csv", 1)],
)
async def test_each_export_is_imported_with_people_found_in_graph(db, connector, graph, export, missing):
    r = await start_round(db, connector, graph)
    h = r.h
    for mail, (object_id, name) in PEOPLE.items():
        graph.add_user(object_id, name, mail)
    graph.user_lookups_per_second = 50
    connector.apps_installed = graph.apps_installed  # a 1:1 chat only with someone who has the app
    graph.apps_installed.add("aad-ella")  # Ella added Buddy herself once
    try:
        await r.say(ADMIN, "cohort create Test Cohort")
        survey = connector.attach(export, (FIXTURES / export).read_bytes())
        status, _ = await h.post(message(h.service_url, "import", user=ADMIN, attachments=[survey]))
        assert status == 200
        opener = connector.cards()[-1]["actions"][0]
        _, answer = await h.post(invoke(h.service_url, "task/fetch", {"data": opener["data"]}, user=ADMIN))
        card = answer["task"]["value"]["card"]["content"]
        assert "Match the survey's columns" in str(card) and "The first 3 rows" in str(card)
        data = dict(card["actions"][0]["data"])
        data |= {e["id"]: e.get("value", "") for e in card["body"] if "id" in e}
        status, answer = await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
        assert status == 200
        await r.sender.drain()
        assert "looking up 5 people by their work email in Microsoft Teams" in str(answer) + _texts(
            connector.cards()[-1]
        )

        lookups = EmailLookups(r.engine.run, {"teams": h.teams.directory})
        assert await lookups.drain() == 5
        asked = [c.path for c in graph.calls if c.path.startswith("/graph/users/")]
        assert len(asked) == 5 and any("sam.nobody@nhs.net" in p for p in asked)
        await r.sender.drain()
        preview = connector.cards()[-1]
        assert f"4 found, {missing} not found, 1 value to check" in _texts(preview)
        assert "no Microsoft Teams account with this email" in _texts(preview)
        [import_button] = [a for a in actions(preview) if a.get("title") == "Import 4"]
        cards = await r.press(ADMIN, import_button)
        assert any("4 new, 0 updated" in _texts(c) for c in cards)
        with r.engine.uow_factory() as uow:
            people = {p.user_id: p.status for p in uow.participants.in_cohort(1)}
        assert people == {
            "aad-asha": "invited",
            "aad-ben": "invited",
            "aad-chloe": "invited",
            "aad-ella": "invited",
        }
        welcomes = [c for c in connector.cards() if "Please check these details" in _texts(c)]
        assert len(welcomes) == 4
        # the app was installed through Graph for the three who had never used it; Ella's answered 409
        installs = [c for c in graph.calls if c.path.endswith("/teamwork/installedApps")]
        assert sorted(c.path for c in installs) == [f"/graph/users/aad-{n}/teamwork/installedApps"
                                                    for n in ("asha", "ben", "chloe", "ella")]  # fmt: skip
        assert {c.body["teamsApp@odata.bind"] for c in installs} == {
            "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/catalog-app-1"
        }
        assert graph.apps_installed == {"aad-asha", "aad-ben", "aad-chloe", "aad-ella"}
        assert not [c for c in connector.cards() if "couldn't send" in _texts(c)]
    finally:
        await h.server.close()


async def import_four(r, connector, graph) -> None:  # type: ignore[no-untyped-def]
    """The Microsoft Forms export through the chat, up to Import pressed."""
    h = r.h
    for mail, (object_id, name) in PEOPLE.items():
        graph.add_user(object_id, name, mail)
    await r.say(ADMIN, "cohort create Test Cohort")
    survey = connector.attach("microsoft_forms.xlsx", (FIXTURES / "microsoft_forms.xlsx").read_bytes())
    await h.post(message(h.service_url, "import", user=ADMIN, attachments=[survey]))
    opener = connector.cards()[-1]["actions"][0]
    _, answer = await h.post(invoke(h.service_url, "task/fetch", {"data": opener["data"]}, user=ADMIN))
    card = answer["task"]["value"]["card"]["content"]
    data = dict(card["actions"][0]["data"]) | {e["id"]: e.get("value", "") for e in card["body"] if "id" in e}
    await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
    await EmailLookups(r.engine.run, {"teams": h.teams.directory}).drain()
    await r.sender.drain()
    [import_button] = [a for a in actions(connector.cards()[-1]) if a.get("title") == "Import 4"]
    await r.press(ADMIN, import_button)


async def test_when_graph_may_not_install_the_app_the_coordinator_is_told_who_needs_it(db, connector, graph):
    r = await start_round(db, connector, graph)
    connector.apps_installed = graph.apps_installed
    graph.refuse_installs = True  # TeamsAppInstallation.ReadWriteSelfForUser.All not granted
    try:
        await import_four(r, connector, graph)
        await r.sender.drain()
        told = "\n".join(_texts(c) for c in connector.cards())
        assert "Please check these details" not in told  # nobody could be written to
        for name in ("Asha Patel", "Ben Okafor", "Chloe Wright"):
            assert f"I couldn't send a message to {name}: they need the Buddy app installed in Teams" in told
        assert "ask your Teams admin to let Buddy install itself" in told
        assert not [c for c in connector.calls if c.path == "/v3/conversations" and "aad-asha" in str(c.body)]
    finally:
        await r.h.server.close()


async def test_without_graph_a_person_without_the_app_cannot_be_written_to(db, connector):
    from adapters.teams import TeamsSettings
    from conversations.core.refs import UserRef
    from conversations.core.views import Message
    from conversations.ports.messenger import DeliveryError
    from tests.teams.conftest import start_harness

    h = await start_harness(db, connector, TeamsSettings(dev_mode=True, service_url=connector.url))
    connector.apps_installed = {"aad-ben"}
    try:
        ben = await h.teams.messenger.open_dm(UserRef("teams", "tenant-1", "aad-ben"))
        await h.teams.messenger.post(ben, Message.simple("Hello"))
        with pytest.raises(DeliveryError) as raised:
            await h.teams.messenger.open_dm(UserRef("teams", "tenant-1", "aad-asha"))
        assert raised.value.code == "teams_app_not_installed" and not raised.value.retryable
    finally:
        await h.server.close()


async def test_without_graph_nobody_can_be_found_by_email_and_the_preview_says_why(db, connector):
    from adapters.teams import TeamsSettings
    from conversations.delivery.sender import Sender
    from conversations.engine import Engine
    from conversations.flows.bank import sync_builtin
    from storage.unit_of_work import SqlUnitOfWorkFactory
    from tests.teams.conftest import start_harness
    from tests.teams.test_teams_round import START, FakeClock, Round

    h = await start_harness(db, connector, TeamsSettings(dev_mode=True, service_url=connector.url))
    clock = FakeClock(START)
    engine = Engine(SqlUnitOfWorkFactory(db), clock=clock, capabilities={"teams": h.teams.messenger.capabilities},
                    admins=(f"tenant-1:{ADMIN}",))  # fmt: skip
    engine.run(sync_builtin)
    sender = Sender(
        SqlUnitOfWorkFactory(db), {"teams": h.teams.messenger}, clock, on_failure=engine.delivery_failed
    )
    h.engine.answer = engine.handle
    r = Round(h, engine, sender, clock)
    try:
        assert h.teams.directory is None and h.teams.messenger.capabilities.email_lookups == 0
        await r.say(ADMIN, "cohort create Test Cohort")
        survey = connector.attach("microsoft_forms.xlsx", (FIXTURES / "microsoft_forms.xlsx").read_bytes())
        await h.post(message(h.service_url, "import", user=ADMIN, attachments=[survey]))
        opener = connector.cards()[-1]["actions"][0]
        _, answer = await h.post(invoke(h.service_url, "task/fetch", {"data": opener["data"]}, user=ADMIN))
        card = answer["task"]["value"]["card"]["content"]
        data = dict(card["actions"][0]["data"]) | {
            e["id"]: e.get("value", "") for e in card["body"] if "id" in e
        }
        _, answer = await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
        await sender.drain()
        preview = str(answer) + _texts(connector.cards()[-1])
        assert "0 found, 5 not found" in preview
        assert "needs the Buddy app installed: without Microsoft Graph" in preview
        [export] = [a for a in actions(connector.cards()[-1]) if a.get("title") == "Export not found"]
        assert not [a for a in actions(connector.cards()[-1]) if str(a.get("title")).startswith("Import")]
        cards = await r.press(ADMIN, export)
        assert "5 people from microsoft\\_forms.xlsx weren't found" in "".join(_texts(c) for c in cards)
    finally:
        await h.server.close()


async def test_bad_files_and_unknown_values_are_named_by_line_and_column(db, connector, graph):
    r = await start_round(db, connector, graph)
    h = r.h
    good = (FIXTURES / "google_forms.csv").read_text("utf-8")
    try:
        await r.say(ADMIN, "cohort create Test Cohort")

        async def attach(name: str, body: bytes) -> str:
            before = len(connector.cards())
            status, _ = await h.post(message(h.service_url, "import", user=ADMIN,
                                             attachments=[connector.attach(name, body)]))  # fmt: skip
            assert status == 200
            await r.sender.drain()
            return "\n".join(_texts(c) for c in connector.cards()[before:])

        assert "isn't a CSV or Excel (.xlsx) file" in await attach(
            "photo.png", b"\x89PNG\r\n\x1a\n\x00binary"
        )
        ragged = good.splitlines()[0] + "\n" + ",".join(["x"] * 30) + "\n"
        assert "line 2: 30 cells but the headings have 13 columns" in await attach(
            "ragged.csv", ragged.encode()
        )

        await attach("responses.csv", good.replace("Psych,", "Xylophone,").encode())
        opener = connector.cards()[-1]["actions"][0]
        _, answer = await h.post(invoke(h.service_url, "task/fetch", {"data": opener["data"]}, user=ADMIN))
        card = answer["task"]["value"]["card"]["content"]
        data = dict(card["actions"][0]["data"]) | {
            e["id"]: e.get("value", "") for e in card["body"] if "id" in e
        }
        status, answer = await h.post(invoke(h.service_url, "task/submit", {"data": data}, user=ADMIN))
        assert status == 200 and answer["task"]["type"] == "continue"  # the dialog stays open with the errors
        shown = str(answer["task"]["value"]["card"]["content"])
        assert "1 row has problems" in shown
        assert (
            "line 2: column “What is your specialty?”: “Xylophone” isn't a specialty I know (closest:"
            in shown
        )
        with r.engine.uow_factory() as uow:
            assert uow.participants.in_cohort(1) == []
    finally:
        await h.server.close()
