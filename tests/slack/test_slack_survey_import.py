"""A SurveyMonkey export imported in Slack, end to end over HTTP: the modal's file (XLSX), the
mapping modal, the people looked up with ``users.lookupByEmail`` on the fake Slack (which enforces
Tier 3), the preview in the coordinator's DM, Import, and the welcome in each person's DM."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.directory import SlackDirectory
from adapters.slack.messenger import static_token
from conversations.core.refs import UserRef
from conversations.schedule.email_lookup import EmailLookups
from tests.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.slack.round import COORDINATOR, Round

FIXTURES = Path(__file__).parent.parent / "surveys" / "fixtures"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def initial(view: dict[str, Any]) -> dict[str, Any]:
    """What the coordinator sees chosen in each select of the mapping modal."""
    return {b["block_id"]: (b["element"].get("initial_option") or {}).get("value")
            for b in view["blocks"] if b.get("type") == "input"}  # fmt: skip


EXPORTS = [  # (fixture, re-encoded as, who is not found)
    ("surveymonkey.xlsx", None, 1),
    ("surveymonkey.csv", None, 2),  # UTF-8 with a byte order mark, as SurveyMonkey writes it; one blank email
    ("microsoft_forms.xlsx", None, 1),
    ("google_forms.csv", None, 1),
    ("google_forms.csv", "utf-16", 1),  # Excel's "Unicode text"
    ("google_forms.csv", "cp1252", 1),  # Excel's "CSV" on Windows
]


def content(name: str, encoding: str | None) -> bytes:
    body = (FIXTURES / name).read_bytes()
    return body if encoding is None else body.decode("utf-8-sig").encode(encoding)


@pytest.mark.parametrize(("export", "encoding", "missing"), EXPORTS)
async def test_each_export_is_imported_with_people_found_by_email(
    round_: Round, fake: FakeSlack, web_client, export: str, encoding: str | None, missing: int
) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    opened = len(fake.calls_to("views.open"))
    await r.say(COORDINATOR, "import")
    view = fake.calls_to("views.open")[opened].args["view"]
    kind = XLSX if export.endswith(".xlsx") else "text/csv"
    upload = fake.upload(export, content(export, encoding), kind)
    sent = await r.slack.submit(view, {"file": [upload]}, COORDINATOR)
    assert sent.status == 200
    answer = sent.json()
    assert answer["response_action"] == "update"  # the mapping modal replaces the upload
    mapping = answer["view"]
    assert mapping["callback_id"] == "import_mapping"
    assert "The first 3 rows" in str(mapping["blocks"])
    choices = initial(mapping)
    assert choices["email"] and choices["display_name"] == (
        "first+last" if "surveymonkey" in export else choices["display_name"]
    )
    assert choices["display_name"]
    sent = await r.slack.submit(mapping, choices, COORDINATOR)
    assert sent.status == 200 and sent.text == ""
    await r.slack.settle()
    await r.deliver()
    assert any("looking up 5 people by their work email in Slack" in t for t in r.dm_texts(COORDINATOR))

    directory = SlackDirectory(web_client, static_token(BOT_TOKEN), per_minute=3000)
    lookups = EmailLookups(r.engine.run, {"slack": directory})
    assert await lookups.drain() == 5  # a blank email needs no lookup
    asked = [c.args["email"] for c in fake.calls_to("users.lookupByEmail")]
    assert sorted(asked) == sorted(["asha.patel@nhs.net", "ben.okafor@nhs.net", "chloe.wright@nhs.net",
                                    "sam.nobody@nhs.net", "ella.brown@nhs.net"])  # fmt: skip
    assert all(c.token == BOT_TOKEN for c in fake.calls_to("users.lookupByEmail"))
    await r.deliver()
    [preview] = [t for t in r.dm_texts(COORDINATOR) if "Survey import for North" in t]
    assert f"4 found, {missing} not found, 1 value to check" in preview

    dm = fake.open_dm(COORDINATOR)
    button = r.button(dm, "Import 4")
    pressed = await r.slack.press(button["action_id"], button["value"], COORDINATOR)
    assert pressed.status == 200
    await r.slack.settle()
    await r.deliver()
    with r.engine.uow_factory() as uow:
        found = [p for c in uow.cohorts.all() for p in uow.participants.in_cohort(c.id)]
    assert {p.user_id: p.status for p in found} == {
        u: "invited" for u in ("U0AAA001", "U0BBB002", "U0CCC003", "U0EEE005")
    }
    assert "Ella Brontë" in {p.display_name for p in found}  # read in the file's own encoding
    assert any("Please confirm your details for North" in t for t in r.dm_texts("U0AAA001"))
    confirm = r.button(fake.open_dm("U0AAA001"), "Confirm and agree")
    await r.slack.press(confirm["action_id"], confirm["value"], "U0AAA001")
    await r.slack.settle()
    with r.engine.uow_factory() as uow:
        assert uow.participants.for_user(UserRef("slack", TEAM, "U0AAA001"))[0].status == "registered"


async def test_lookups_keep_to_tier_3_and_the_fake_enforces_it(fake: FakeSlack, web_client) -> None:
    """Scaled 60x so the test is quick: a directory paced to the limit is never throttled; one that
    ignores it is answered 429 with Retry-After, waits, and still finds everyone."""
    fake.rate_limits["users.lookupByEmail"] = 50 * 60  # 50 a second
    emails = ["asha.patel@nhs.net", "ben.okafor@nhs.net", "nobody@nhs.net"] * 25
    paced = SlackDirectory(web_client, static_token(BOT_TOKEN), per_minute=50 * 60 * 0.9)
    found = [await paced.find_by_email(TEAM, e) for e in emails]
    assert fake.throttled.get("users.lookupByEmail", 0) == 0
    assert [p.user_id if p else None for p in found[:3]] == ["U0AAA001", "U0BBB002", None]

    greedy = SlackDirectory(web_client, static_token(BOT_TOKEN), per_minute=1e9)
    again = await asyncio.gather(*(greedy.find_by_email(TEAM, e) for e in emails))
    assert fake.throttled["users.lookupByEmail"] > 0  # the fake said 429; the client waited and retried
    assert [p.user_id if p else None for p in again] == [p.user_id if p else None for p in found]


async def test_bad_files_and_unknown_values_are_named_by_line_and_column(
    round_: Round, fake: FakeSlack
) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    good = (FIXTURES / "google_forms.csv").read_text("utf-8")

    async def send(name: str, body: bytes, kind: str = "text/csv") -> dict[str, Any]:
        opened = len(fake.calls_to("views.open"))
        await r.say(COORDINATOR, "import")
        view = fake.calls_to("views.open")[opened].args["view"]
        sent = await r.slack.submit(view, {"file": [fake.upload(name, body, kind)]}, COORDINATOR)
        assert sent.status == 200
        return sent.json()

    answer = await send("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00binary", "image/png")
    assert answer["response_action"] == "errors"
    assert "isn't a CSV or Excel (.xlsx) file" in str(answer["errors"])
    ragged = good.splitlines()[0] + "\n" + ",".join(["x"] * 30) + "\n"
    answer = await send("ragged.csv", ragged.encode())
    assert answer["response_action"] == "errors"
    assert "line 2: 30 cells but the headings have 13 columns" in str(answer["errors"])

    answer = await send("responses.csv", good.replace("Psych,", "Xylophone,").encode())
    mapping = answer["view"]
    sent = await r.slack.submit(mapping, initial(mapping), COORDINATOR)
    assert sent.status == 200
    errors = str(sent.json()["errors"])
    assert "Nothing imported from " in errors and "1 row has problems" in errors
    assert (
        "line 2: column “What is your specialty?”: “Xylophone” isn't a specialty I know (closest:" in errors
    )
    with r.engine.uow_factory() as uow:
        assert [p for c in uow.cohorts.all() for p in uow.participants.in_cohort(c.id)] == []
