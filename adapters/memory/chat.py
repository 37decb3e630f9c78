"""A chat harness around the engine: people type commands, press buttons and fill in forms,
and everything they saw (replies only they saw, and posts) is in their transcript.

Tests read like a chat::

    chat.say("U1", "join")          # opens the registration form
    chat.submit("U1", {...})        # fills it in
    assert "registered" in chat.last("U1")
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from adapters.memory.messenger import MemoryMessenger, render_text
from conversations.delivery import DrainReport, Sender
from conversations.engine import Engine
from conversations.hygiene import screen
from conversations.interactions import (
    Actor,
    ButtonPressed,
    CloseForm,
    CommandInvoked,
    FileShared,
    FormErrors,
    FormSubmitted,
    HomeOpened,
    Interaction,
    MemberJoined,
    Outcome,
    Reply,
    ShowForm,
    ShowHome,
)
from conversations.refs import ConversationRef, UserRef
from conversations.views import Actions, Button, Form, FormValue, Home, Message


@dataclass
class Person:
    user_id: str
    name: str
    email: str = ""
    open_form: Form | None = None
    replies: list[str] = field(default_factory=list)


class Chat:
    def __init__(
        self, engine: Engine, messenger: MemoryMessenger, sender: Sender, workspace: str = "T1"
    ) -> None:
        self.engine = engine
        self.messenger = messenger
        self.sender = sender
        self.workspace = workspace
        self.people: dict[str, Person] = {}
        self.log: dict[str, list[str]] = defaultdict(list)  # everything each person saw, in order
        self.shown: dict[str, list[Button]] = defaultdict(list)  # every button each person saw, in order

    def person(self, user_id: str, name: str = "", email: str = "") -> Person:
        if user_id not in self.people:
            self.people[user_id] = Person(user_id, name or user_id, email)
        return self.people[user_id]

    def actor(self, user_id: str) -> Actor:
        p = self.person(user_id)
        return Actor(UserRef(self.messenger.platform, self.workspace, user_id), p.name, p.email)

    # ---- acting ---------------------------------------------------------------------------

    def say(self, user_id: str, text: str) -> Outcome:
        return self._do(user_id, CommandInvoked(self.actor(user_id), text))

    def press(self, user_id: str, action_id: str, value: str = "") -> Outcome:
        return self._do(user_id, ButtonPressed(self.actor(user_id), action_id, value))

    def press_in_last(self, user_id: str, label: str) -> Outcome:
        """Press the newest button labelled ``label`` that this person can see."""
        for button in reversed(self.buttons(user_id)):
            if button.label == label:
                return self.press(user_id, button.action_id, button.value)
        raise AssertionError(
            f"{user_id} sees no button {label!r}; saw: {[b.label for b in self.buttons(user_id)]}"
        )

    def submit(self, user_id: str, values: dict[str, FormValue]) -> Outcome:
        form = self.person(user_id).open_form
        if form is None:
            raise AssertionError(f"{user_id} has no form open")
        return self._do(user_id, FormSubmitted(self.actor(user_id), form.form_id, form.state, values))

    def send_file(self, user_id: str, filename: str, text: str, caption: str = "") -> Outcome:
        """Attach a file in the chat with Buddy, with ``caption`` as the message."""
        return self._do(user_id, FileShared(self.actor(user_id), filename, text, caption))

    def join_channel(self, user_id: str, channel_id: str) -> Outcome:
        channel = ConversationRef(self.messenger.platform, self.workspace, channel_id)
        return self._do(user_id, MemberJoined(self.actor(user_id), channel))

    def open_home(self, user_id: str) -> Home:
        outcome = self._do(user_id, HomeOpened(self.actor(user_id)))
        assert isinstance(outcome, ShowHome)
        return outcome.home

    def _do(self, user_id: str, interaction: Interaction) -> Outcome:
        screened, refused = screen(interaction)  # as every adapter's runner does
        outcome = refused if refused is not None else self.engine.handle(screened)
        person = self.person(user_id)
        if isinstance(outcome, Reply):
            self._saw(user_id, render_text(outcome.message))
            self.shown[user_id] += self.message_buttons(outcome.message)
        elif isinstance(outcome, ShowForm):
            person.open_form = outcome.form
            self._saw(user_id, f"[form: {outcome.form.title}]")
        elif isinstance(outcome, FormErrors):
            self._saw(user_id, "[form errors] " + "; ".join(f"{k}: {v}" for k, v in outcome.errors.items()))
        elif isinstance(outcome, CloseForm):
            person.open_form = None
            if outcome.message is not None:
                self._saw(user_id, render_text(outcome.message))
                self.shown[user_id] += self.message_buttons(outcome.message)
        self.deliver()
        return outcome

    def _saw(self, user_id: str, text: str) -> None:
        self.person(user_id).replies.append(text)
        self.log[user_id].append(text)

    def deliver(self) -> DrainReport:
        """Drain the outbox now and add every post to its readers' logs."""
        before = len(self.messenger.posts)
        report = asyncio.run(self.sender.drain())
        for post in self.messenger.posts[before:]:
            for user_id in self.messenger.members[post.conversation.conversation_id]:
                self.log[user_id].append(post.text)
                self.shown[user_id] += post.buttons()
        return report

    # ---- reading ----------------------------------------------------------------------------

    def last(self, user_id: str) -> str:
        return self.log[user_id][-1] if self.log[user_id] else ""

    def last_reply(self, user_id: str) -> str:
        """The newest answer only this person saw (not posts delivered after it)."""
        replies = self.person(user_id).replies
        return replies[-1] if replies else ""

    def transcript(self, user_id: str) -> str:
        return "\n---\n".join(self.log[user_id])

    def buttons(self, user_id: str) -> list[Button]:
        """Every button this person saw, in replies and posts, oldest first."""
        return list(self.shown[user_id])

    def last_post(self, user_id: str) -> Message:
        return self.messenger.seen(user_id)[-1].message

    @staticmethod
    def message_buttons(message: Message) -> list[Button]:
        return [b for block in message.blocks if isinstance(block, Actions) for b in block.buttons]
