"""Putting a few people in one conversation (a coffee introduction, a double date, an expert
joining a group): a group chat where the platform can open one, otherwise each of them in their
own chat with Buddy, with a link that opens a chat with all of them where the platform has one
(Teams without Graph: ``https://teams.microsoft.com/l/chat/0/0?users=...``)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from conversations.core.refs import UserRef
from conversations.core.views import Actions, Button, Message
from conversations.delivery.outbox import queue, to_group, to_user
from conversations.flows.context import Ctx


def email_of(ctx: Ctx, user: UserRef) -> str:
    """The work email Buddy knows for someone (from their registration), or ""."""
    return next((p.email for p in ctx.uow.participants.for_user(user) if p.email), "")


def group_link(template: str, emails: Sequence[str], topic: str) -> str:
    """The platform's link that opens a chat with everyone (``template`` from its capabilities);
    "" when it has none or an email is missing."""
    if not template or not emails or not all(emails):
        return ""
    return template.format(emails=",".join(quote(e) for e in emails), topic=quote(topic))


def together(ctx: Ctx, key: str, people: Sequence[UserRef], topic: str, message: Message) -> int:
    """Queue ``message`` to ``people`` in one conversation, or to each with a link to one;
    returns how many posts were queued (0: all were queued before, under ``key``)."""
    caps = ctx.caps(people[0].platform)
    if caps.group_dm and 2 <= len(people) <= caps.max_group_size:
        return int(queue(ctx.uow, key, to_group(list(people), topic), message, ctx.now))
    link = group_link(caps.group_link_template, [email_of(ctx, p) for p in people], topic)
    extra = (Actions((Button("Open a group chat", "open_group_chat", url=link),)),) if link else ()
    alone = Message(message.text, (*message.blocks, *extra), carries_user_text=message.carries_user_text)
    return sum(queue(ctx.uow, f"{key}:{p.user_id}", to_user(p), alone, ctx.now) for p in people)
