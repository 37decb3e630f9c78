"""Neutral inbound interactions and the outcomes the engine answers them with.

An adapter turns one platform payload into one interaction, calls ``Engine.handle``, and turns
the outcome into the platform's answer (an ack, an ephemeral reply, a modal, field errors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Form, FormValue, Home, Message


@dataclass(frozen=True)
class Actor:
    """Who acted. Identity is ``ref``; the rest is best-effort profile data from the platform."""

    ref: UserRef
    display_name: str = ""
    email: str = ""


class ChatKind(StrEnum):
    """Where words were typed: what Buddy says back there, and whether it may pass them on."""

    DIRECT = "direct"  # the person's 1:1 chat with Buddy (Slack: its DM; Teams: the personal chat)
    GROUP = "group"  # a chat of several people (Slack: a group DM; Teams: a group chat)
    CHANNEL = "channel"  # a channel


@dataclass(frozen=True)
class CommandInvoked:
    actor: Actor
    text: str  # e.g. "match preview"; mentions normalised to "@<user_id>"
    conversation: ConversationRef | None = None
    chat: ChatKind = ChatKind.DIRECT


@dataclass(frozen=True)
class ButtonPressed:
    actor: Actor
    action_id: str
    value: str
    conversation: ConversationRef | None = None
    message: MessageRef | None = None


@dataclass(frozen=True)
class FormSubmitted:
    actor: Actor
    form_id: str
    state: str
    values: dict[str, FormValue] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberJoined:
    actor: Actor
    channel: ConversationRef


@dataclass(frozen=True)
class HomeOpened:
    actor: Actor


@dataclass(frozen=True)
class Installed:
    """The app was installed or a conversation with it started; ``conversation`` reaches the actor."""

    actor: Actor
    conversation: ConversationRef | None = None


RUN_COMMAND = "run_command"  # a button whose value is a command's words, run as if typed by the presser


@dataclass(frozen=True)
class FileShared:
    """A file sent to Buddy in a chat (Teams: attached in the 1:1 chat), already fetched by the
    adapter; ``caption`` is the message it came with, as a command (``import``)."""

    actor: Actor
    filename: str
    text: str
    caption: str = ""
    conversation: ConversationRef | None = None


Interaction = (
    CommandInvoked | ButtonPressed | FormSubmitted | MemberJoined | HomeOpened | Installed | FileShared
)


# ---- outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Answer only the actor sees (Slack ephemeral / Teams reply in the same chat)."""

    message: Message


@dataclass(frozen=True)
class ShowForm:
    form: Form


@dataclass(frozen=True)
class FormErrors:
    """Keep the form open and show these messages beside the named fields."""

    errors: dict[str, str]


@dataclass(frozen=True)
class CloseForm:
    """The submission was accepted; ``message`` (optional) confirms it to the actor."""

    message: Message | None = None


@dataclass(frozen=True)
class ShowHome:
    home: Home


@dataclass(frozen=True)
class NoReply:
    pass


Outcome = Reply | ShowForm | FormErrors | CloseForm | ShowHome | NoReply


EngineHandle = Callable[[Interaction], Outcome]
"""What adapters call: ``Engine.handle`` (synchronous; run it in a worker thread)."""

RunIn = Callable[[int, Callable[[], object]], object]
"""Runs the i-th interaction's work of a batch where its caller wants (in its request's context)."""

HandleMany = Callable[[Sequence[Interaction], RunIn], list[object]]
"""``Engine.handle_many``: a batch sharing one commit where it can; each answer, or the failure,
in its place."""
