"""Block Kit rendering: golden files for whole views, direct assertions for escaping and limits.

Regenerate the golden files after an intended change with ``BUDDY_UPDATE_GOLDEN=1 pytest tests/slack``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adapters.slack.mrkdwn import to_mrkdwn
from adapters.slack.render_blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    RenderError,
    base_action_id,
    render_home,
    render_message,
    render_modal,
)
from conversations.core.markup import escape
from conversations.core.views import (
    Actions,
    Button,
    Checkbox,
    Context,
    DateField,
    Divider,
    Form,
    Header,
    Home,
    LongText,
    Message,
    MultiSelect,
    Note,
    Option,
    Section,
    Select,
    ShortText,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BUDDY_UPDATE_GOLDEN") == "1"

HOSTILE = "<!channel> <!here> <!everyone> <@U123ABC> <https://evil.example|innocent> Tom & Jerry > 1"

CASES = {
    "message_introduction": lambda: render_message(
        Message(
            text="Meet your buddies {@U0AAA1} and {@U0BBB2}",
            blocks=(
                Header("Your buddy group for June"),
                Section("Hello **everyone**! Say hi to {@U0AAA1} and {@U0BBB2}."),
                Section("", fields=(("Trust", "Leeds Teaching Hospitals"), ("Role", "F2 doctor"))),
                Divider(),
                Actions(
                    (
                        Button("Done", "task_done", "task:42", style="primary"),
                        Button("Skip", "task_skip", "task:42", style="danger"),
                        Button("Guide", "open_guide", url="https://example.nhs.uk/guide"),
                    )
                ),
                Context("Reply in this conversation. _Buddy_ posts one task a week."),
            ),
        )
    ),
    "message_user_text": lambda: render_message(
        Message(
            text="New reflection from {@U0AAA1}",
            blocks=(Section("**Their answer:**\n" + escape(HOSTILE + " *not bold* [x](https://y.z)")),),
            carries_user_text=True,
        )
    ),
    "message_repeated_action_ids": lambda: render_message(
        Message(
            text="Pick one",
            blocks=(Actions(tuple(Button(f"Slot {i}", "pick_slot", str(i)) for i in range(3))),),
        )
    ),
    "modal_registration": lambda: render_modal(
        Form(
            form_id="register",
            title="Join the buddy scheme",
            fields=(
                Note("Tell us a little about you. **All fields** go to the coordinator only."),
                ShortText("name", "Your name", placeholder="Dr Jane Doe", initial="Jane"),
                Select(
                    "role",
                    "Role",
                    (Option("doctor", "Junior doctor"), Option("manager", "Management trainee")),
                    initial="doctor",
                ),
                MultiSelect(
                    "interests",
                    "Interests",
                    (
                        Option("quality", "Quality improvement"),
                        Option("finance", "Finance"),
                        Option("it", "IT"),
                    ),
                    initial=("it",),
                    max_selected=2,
                ),
                LongText("about", "About you", word_limit=150, hint="Optional.", required=False),
                DateField("start", "Start date", initial="2025-08-06"),
                Checkbox("consent", "I agree to share my name and role with my buddies", required=True),
            ),
            submit_label="Join",
            state='{"cohort":7}',
        )
    ),
    "home_dashboard": lambda: render_home(
        Home(
            blocks=(
                Header("Buddy"),
                Section("You are in **June 2025**. Your buddies: {@U0AAA1}, {@U0BBB2}."),
                Actions((Button("Update my details", "edit_profile"),)),
            )
        )
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    rendered = CASES[name]()
    path = GOLDEN / f"{name}.json"
    text = json.dumps(rendered, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path.name} missing; run with BUDDY_UPDATE_GOLDEN=1 to create it")
        path.write_text(text, encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8")) == rendered


def _all_texts(obj: object) -> list[str]:
    if isinstance(obj, dict):
        if obj.get("type") == "mrkdwn":
            return [obj["text"]]
        return [t for v in obj.values() for t in _all_texts(v)]
    if isinstance(obj, list):
        return [t for v in obj for t in _all_texts(v)]
    return []


def test_user_text_cannot_ping_or_disguise_links() -> None:
    out = render_message(Message(text=escape(HOSTILE), blocks=(Section(escape(HOSTILE)),)))
    for text in [out["text"], *_all_texts(out["blocks"])]:
        assert "<" not in text and ">" not in text.replace("&gt;", "")
        assert "&lt;!channel&gt;" in text and "&lt;@U123ABC&gt;" in text
        assert "Tom &amp; Jerry" in text


def test_markup_converts_to_mrkdwn() -> None:
    assert to_mrkdwn("**bold** and _it_ and [label](https://x.org/a?b=1&c=2)") == (
        "*bold* and _it_ and <https://x.org/a?b=1&amp;c=2|label>"
    )
    assert to_mrkdwn("hi {@U0AAA1}") == "hi <@U0AAA1>"
    assert to_mrkdwn("hi {@not-a-slack-id}") == "hi @not-a-slack-id"
    assert to_mrkdwn("[a>b](https://x.org)") == "<https://x.org|a&gt;b>"


def test_long_text_is_cut_on_entity_boundaries() -> None:
    text = to_mrkdwn("&" * 5000, 3000)
    assert len(text) <= 3000 and text.endswith("…")
    assert text[:-1] == "&amp;" * ((3000 - 1) // 5)
    out = render_message(Message(text="x", blocks=(Section("a" * 10_000), Header("h" * 500))))
    assert len(out["blocks"][0]["text"]["text"]) == 3000
    assert len(out["blocks"][1]["text"]["text"]) == 150


def test_too_many_blocks_end_in_a_more_note() -> None:
    msg = Message(text="many", blocks=tuple(Section(f"item {i}") for i in range(80)))
    blocks = render_message(msg)["blocks"]
    assert len(blocks) == MAX_MESSAGE_BLOCKS
    assert blocks[-1]["type"] == "context" and "more" in blocks[-1]["elements"][0]["text"]
    home = render_home(Home(blocks=tuple(Divider() for _ in range(150))))
    assert len(home["blocks"]) == MAX_VIEW_BLOCKS


def test_fields_and_buttons_split_into_more_blocks() -> None:
    out = render_message(
        Message(
            text="x",
            blocks=(
                Section("t", fields=tuple((f"k{i}", "v") for i in range(23))),
                Actions(tuple(Button(f"b{i}", f"a{i}") for i in range(30))),
            ),
        )
    )
    kinds = [(b["type"], len(b.get("fields", b.get("elements", [])))) for b in out["blocks"]]
    assert kinds == [("section", 10), ("section", 10), ("section", 3), ("actions", 25), ("actions", 5)]


def test_repeated_action_ids_round_trip() -> None:
    out = render_message(
        Message(text="x", blocks=(Actions((Button("a", "go", "1"), Button("b", "go", "2"))),))
    )
    ids = [e["action_id"] for e in out["blocks"][0]["elements"]]
    assert len(set(ids)) == 2 and {base_action_id(i) for i in ids} == {"go"}


def test_modal_limits() -> None:
    form = Form(
        "f",
        "A title far longer than twenty-four",
        (ShortText("a", "A", max_chars=10_000),),
        "Submit it now please",
    )
    view = render_modal(form)
    assert len(view["title"]["text"]) <= 24 and len(view["submit"]["text"]) <= 24
    assert view["blocks"][0]["element"]["max_length"] == 3000
    with pytest.raises(RenderError, match="private_metadata"):
        render_modal(Form("f", "t", (ShortText("a", "A"),), state="s" * 3001))
    with pytest.raises(RenderError):
        render_modal(Form("f", "t", tuple(ShortText(f"a{i}", "A") for i in range(101))))
    with pytest.raises(RenderError):
        render_message(Message(text="x", blocks=(Actions((Button("a", "go", "v" * 2001),)),)))


def test_many_options_become_groups() -> None:
    options = tuple(Option(str(i), f"Trust {i}" + "x" * 100) for i in range(250))
    el = render_modal(Form("f", "t", (Select("trust", "Trust", options),)))["blocks"][0]["element"]
    assert "options" not in el
    assert [len(g["options"]) for g in el["option_groups"]] == [100, 100, 50]
    assert all(len(o["text"]["text"]) <= 75 for g in el["option_groups"] for o in g["options"])
