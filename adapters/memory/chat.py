"""A chat harness around the engine: people type commands, press buttons and fill in forms,
and everything they saw (replies only they saw, and posts) is in their transcript.

Tests read like a chat::

    chat.say("U1", "join").expect("[form: Join the buddy scheme]")
    chat.submit("U1", {...}).expect("you're registered")
    chat.say(ADMIN, "match preview").expect("11 groups", "Waiting list")

``expect`` looks in everything the person saw because of that step (their reply and any posts
delivered after it) and, when a text is missing, fails with the person's whole transcript.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from adapters.memory.messenger import MemoryMessenger, render_text
from conversations.core.hygiene import screen
from conversations.core.interactions import (
    Actor,
    ButtonPressed,
    ChatKind,
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
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.views import Actions, Button, Form, FormValue, Home, Message
from conversations.delivery.sender import DrainReport, Sender
from conversations.engine import Engine
from conversations.schedule.email_lookup import EmailLookups


class Said:
    """What one step of a chat gave: the engine's outcome, and what the person saw because of it.

    It stands in for the outcome (``isinstance(said, Reply)`` and its attributes work as before),
    and adds :meth:`expect`."""

    def __init__(self, chat: Chat, user_id: str, outcome: Outcome, seen_from: int) -> None:
        self._chat, self._user_id, self.outcome, self._seen_from = chat, user_id, outcome, seen_from

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() asks this: a Said passes for its outcome
        return type(self.outcome)

    def __getattr__(self, name: str) -> object:
        return getattr(self.outcome, name)

    def __eq__(self, other: object) -> bool:
        return self.outcome == (other.outcome if isinstance(other, Said) else other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def seen(self) -> list[str]:
        """Everything the person saw because of this step."""
        return self._chat.log[self._user_id][self._seen_from :]

    def expect(self, *texts: str) -> Said:
        """Each of ``texts`` is in what the person saw because of this step; otherwise fail with
        the transcript. Returns itself, so expectations chain."""
        seen = "\n".join(self.seen)
        missing = [t for t in texts if t not in seen]
        if missing or not self.seen:
            raise AssertionError(
                f"{self._user_id} was expected to see {missing or list(texts)!r}; their transcript:\n"
                + self._chat.transcript(self._user_id)
            )
        return self

    def expect_not(self, *texts: str) -> Said:
        seen = "\n".join(self.seen)
        found = [t for t in texts if t in seen]
        if found:
            raise AssertionError(f"{self._user_id} was not to see {found!r}; their transcript:\n"
                                 + self._chat.transcript(self._user_id))  # fmt: skip
        return self


@dataclass
class Person:
    user_id: str
    name: str
    email: str = ""
    open_form: Form | None = None
    replies: list[str] = field(default_factory=list)


class Chat:
    def __init__(
        self,
        engine: Engine,
        messenger: MemoryMessenger,
        sender: Sender,
        workspace: str = "T1",
        lookups: EmailLookups | None = None,
    ) -> None:
        self.engine = engine
        self.lookups = lookups  # background email lookups (survey imports), run before each delivery
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

    def say(self, user_id: str, text: str, chat: ChatKind = ChatKind.DIRECT) -> Said:
        """Words typed to Buddy: in the 1:1 chat with it unless ``chat`` says otherwise."""
        return self._do(user_id, CommandInvoked(self.actor(user_id), text, chat=chat))

    def press(self, user_id: str, action_id: str, value: str = "") -> Said:
        return self._do(user_id, ButtonPressed(self.actor(user_id), action_id, value))

    def press_in_last(self, user_id: str, label: str) -> Said:
        """Press the newest button labelled ``label`` that this person can see."""
        for button in reversed(self.buttons(user_id)):
            if button.label == label:
                return self.press(user_id, button.action_id, button.value)
        raise AssertionError(
            f"{user_id} sees no button {label!r}; saw: {[b.label for b in self.buttons(user_id)]}"
        )

    def submit(self, user_id: str, values: dict[str, FormValue]) -> Said:
        form = self.person(user_id).open_form
        if form is None:
            raise AssertionError(f"{user_id} has no form open")
        return self._do(user_id, FormSubmitted(self.actor(user_id), form.form_id, form.state, values))

    def send_file(self, user_id: str, filename: str, text: str, caption: str = "") -> Said:
        """Attach a file in the chat with Buddy, with ``caption`` as the message."""
        return self._do(user_id, FileShared(self.actor(user_id), filename, text, caption))

    def join_channel(self, user_id: str, channel_id: str) -> Said:
        channel = ConversationRef(self.messenger.platform, self.workspace, channel_id)
        return self._do(user_id, MemberJoined(self.actor(user_id), channel))

    def open_home(self, user_id: str) -> Home:
        outcome = self._do(user_id, HomeOpened(self.actor(user_id))).outcome
        assert isinstance(outcome, ShowHome)
        return outcome.home

    def _do(self, user_id: str, interaction: Interaction) -> Said:
        seen_from = len(self.log[user_id])
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
        return Said(self, user_id, outcome, seen_from)

    def _saw(self, user_id: str, text: str) -> None:
        self.person(user_id).replies.append(text)
        self.log[user_id].append(text)

    def deliver(self) -> DrainReport:
        """Drain the outbox now and add every post to its readers' logs."""
        before = len(self.messenger.posts)
        if self.lookups is not None:
            asyncio.run(self.lookups.drain())
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

    @staticmethod
    def message_buttons(message: Message) -> list[Button]:
        return [b for block in message.blocks if isinstance(block, Actions) for b in block.buttons]
