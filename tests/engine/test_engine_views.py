"""Neutral markup and the message codec the outbox relies on."""

from __future__ import annotations

from conversations.core.markup import Span, escape, parse, plain
from conversations.core.views import Actions, Button, Context, Divider, Header, Message, Section
from conversations.core.views_codec import message_from_dict, message_to_dict


def test_markup_spans():
    assert parse("**Hi** _there_ [NHS](https://nhs.uk) {@U1}!") == [
        Span("bold", "Hi"), Span("text", " "), Span("italic", "there"), Span("text", " "),
        Span("link", "NHS", "https://nhs.uk"), Span("text", " "), Span("mention", "", "U1"), Span("text", "!"),
    ]  # fmt: skip


def test_escaped_user_text_is_always_literal():
    nasty = "**x** _y_ [a](https://evil.example) {@U1} \\ <!channel> & <@U2>"
    spans = parse(escape(nasty))
    assert spans == [Span("text", nasty)]
    assert plain(f"**{escape('a*b')}**") == "a*b"


def test_unbalanced_markers_stay_text():
    assert plain("2 * 3 = 6 and snake_case") == "2 * 3 = 6 and snake_case"
    assert plain("[not a link](javascript:alert(1))") == "[not a link](javascript:alert(1))"


def test_messages_survive_the_outbox_round_trip():
    message = Message(
        "summary",
        (
            Header("H"),
            Section("text", (("a", "b"),)),
            Context("c"),
            Divider(),
            Actions((Button("Go", "go", "1", "primary"), Button("Open", "open", url="https://x.example"))),
        ),  # fmt: skip
        carries_user_text=True,
    )
    assert message_from_dict(message_to_dict(message)) == message


def test_code_spans_show_commands_literally():
    assert parse("type `join` now") == [Span("text", "type "), Span("code", "join"), Span("text", " now")]
    assert parse(escape("`x`")) == [Span("text", "`x`")]
    assert plain("use `match preview`") == "use `match preview`"
