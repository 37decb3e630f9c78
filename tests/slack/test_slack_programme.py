"""The programme in Slack (issue 15), over HTTP on loopback: the introduction's huddle hint in the
group DM, a task rating by button, and the portfolio PDF uploaded to the buddy's DM (read back
with pypdf) and the certificate after ``round end``."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from tests.slack.fake_slack import FakeSlack
from tests.slack.round import COORDINATOR, Round
from tests.slack.round import DOCTOR as ASHA  # noqa: E402
from tests.slack.round import MANAGER as BEN  # noqa: E402


def _pdf(fake: FakeSlack, start: int) -> str:
    done = fake.calls_to("files.completeUploadExternal")[start:]
    assert done, "no file was uploaded"
    dm = done[-1].args["channel_id"]
    [posted] = [m for m in fake.messages_in(dm) if m.get("files")][-1:]
    name, content = fake.files[posted["files"][0]["id"]]
    assert name.endswith(".pdf") and content[:5] == b"%PDF-"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


async def test_huddle_hint_rating_portfolio_and_certificate_through_slack(round_: Round, fake: FakeSlack) -> None:
    r = round_
    await r.say(COORDINATOR, "cohort create North")
    await r.register(ASHA, "Asha Patel", "clinician")
    await r.register(BEN, "Ben Okafor", "general_manager")
    await r.say(COORDINATOR, "match preview")
    await r.say(COORDINATOR, "match confirm")
    await r.deliver()
    group = r.group()
    assert any("huddle" in str(m["blocks"]) for m in fake.messages_in(group))

    await r.say(COORDINATOR, "task send")
    await r.deliver()
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    reply = await r.say(ASHA, "portfolio")
    assert reply and "Problem page" in str(reply["blocks"])
    await r.slack.settle()
    text = _pdf(fake, uploads)
    assert "Buddy scheme portfolio: Asha Patel" in text and "MLCF: Working with others" in text

    r.engine.clock.set(r.engine.clock.now() + timedelta(days=7))  # type: ignore[attr-defined]
    r.engine.reconcile(1)
    await r.deliver()
    assert any("Did you meet" in t for t in r.dm_texts(BEN))
    sent = await r.slack.press("met", "1:help", user=BEN)
    assert sent.status == 200
    await r.slack.settle()
    await r.deliver()
    assert any("asks for help" in t for t in r.dm_texts(COORDINATOR)), r.dm_texts(COORDINATOR)

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
