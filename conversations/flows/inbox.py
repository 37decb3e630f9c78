"""The coordinators' inbox: what a buddy writes to Buddy in their 1:1 chat that is not a command
goes to their cohort's coordinators, with Reply and Resolve; replies reach the buddy in that chat
and the conversation is kept as one thread until a coordinator resolves it (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conversations.core.interactions import CloseForm, FormErrors, Outcome, Reply, ShowForm
from conversations.core.markup import escape
from conversations.core.model import Cohort, InboxMessage, Participant, Status
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command, form
from conversations.core.views import Actions, Block, Button, Context, Form, Header, LongText, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal, in_workspace
from conversations.flows.lookup import Call, Resolved, id_number, target
from conversations.flows.personal import holding

MAX_CHARS = 2000
REMIND_DAYS = 2  # a cohort can change it: settings["inbox_remind_days"]


@target("inbox_thread")
def _thread(ctx: Ctx, user: UserRef, value: str) -> Resolved:
    """The first message of a thread in a cohort of the actor's workspace (the route checks they
    coordinate it)."""
    number = id_number(value)
    first = ctx.uow.inbox.get(number) if number is not None else None
    cohort = ctx.uow.cohorts.get(first.cohort_id) if first else None
    if first is None or first.thread_id is not None or cohort is None or not in_workspace(cohort, user):
        raise Refusal("That message is no longer in the inbox.")
    return first, cohort


def _coordinator_refs(ctx: Ctx, cohort: Cohort) -> list[UserRef]:
    return [UserRef(c.platform, c.workspace, c.user_id) for c in ctx.uow.cohorts.coordinators(cohort.id)]


def thread_message(ctx: Ctx, cohort: Cohort, first: InboxMessage, heading: str) -> Message:
    """A thread as coordinators see it: the buddy, every message so far, and Reply / Resolve."""
    buddy = ctx.uow.participants.get(first.participant_id)
    name = buddy.display_name if buddy else "A buddy who has left"
    blocks: list[Block] = [Header(heading[:150])]
    for m in ctx.uow.inbox.thread(first.id)[-10:]:
        who = escape(name) if not m.author else "Coordinator"
        blocks.append(Section(f"**{who}**, {m.sent_at:%a %-d %b %H:%M}:\n{escape(m.text)}"))
    blocks.append(Context(f"{escape(name)} · {escape(cohort.name)}"
                          + (" · resolved" if first.resolved_at else "")))  # fmt: skip
    if first.resolved_at is None:
        blocks.append(Actions((Button("Reply", "inbox_reply", str(first.id), style="primary", opens_form=True),
                               Button("Resolve", "inbox_resolve", str(first.id)))))  # fmt: skip
    return Message(f"{name} wrote to the coordinators", tuple(blocks), carries_user_text=True)


def receive(ctx: Ctx, member: Participant, text: str) -> Message:
    """A buddy's message: into their open thread (or a new one), and on to the coordinators."""
    cohort = ctx.uow.cohorts.get(member.cohort_id)
    assert cohort is not None and member.id is not None
    text = text.strip()[:MAX_CHARS]
    open_threads = [m for m in ctx.uow.inbox.for_participants([member.id])
                    if m.thread_id is None and m.resolved_at is None]  # fmt: skip
    first = open_threads[-1] if open_threads else None
    message = ctx.uow.inbox.add(InboxMessage(cohort_id=cohort.id, participant_id=member.id, text=text,
                                             sent_at=ctx.now, thread_id=first.id if first else None))  # fmt: skip
    first = first or message
    member.last_active_at = ctx.now
    card = thread_message(ctx, cohort, first, f"{member.display_name} wrote to the coordinators")
    for ref in _coordinator_refs(ctx, cohort):
        queue(ctx.uow, f"inbox:{message.id}:{ref.user_id}", to_user(ref), card, ctx.now)
    return Message.simple("Thanks: I've passed that on to your coordinators, and their reply will come here. "
                          "(Commands still work: `help` lists them.)")  # fmt: skip


def reply(ctx: Ctx, cohort: Cohort, first: InboxMessage, actor: UserRef, text: str) -> InboxMessage:
    buddy = ctx.uow.participants.get(first.participant_id)
    if buddy is None or buddy.status == Status.LEFT:
        raise Refusal("That person has left the scheme, so I can't pass a reply on.")
    answer = ctx.uow.inbox.add(InboxMessage(cohort_id=cohort.id, participant_id=first.participant_id, text=text,
                                            sent_at=ctx.now, author=actor.key, thread_id=first.id))  # fmt: skip
    first.reminded_at = None
    body = f"**Your coordinator replied:**\n{escape(text)}"
    queue(ctx.uow, f"inbox-reply:{answer.id}", to_user(buddy.ref), Message(
        "Your coordinator replied", (Section(body), Context("Just write here to answer."))),
        ctx.now)  # fmt: skip
    ctx.audit(cohort, actor, "inbox_reply", thread=first.id)
    return answer


def remind(ctx: Ctx, cohort: Cohort) -> int:
    """Remind the coordinators of threads whose last word is the buddy's, N days old or more."""
    days = (cohort.settings or {}).get("inbox_remind_days", REMIND_DAYS)
    after = timedelta(days=days if isinstance(days, int) and days > 0 else REMIND_DAYS)
    reminded = 0
    for first in ctx.uow.inbox.open_threads(cohort.id):
        last = ctx.uow.inbox.thread(first.id)[-1]
        if last.author or ctx.now - last.sent_at < after:
            continue
        if first.reminded_at is not None and ctx.now - first.reminded_at < after:
            continue
        first.reminded_at = ctx.now
        waited = (ctx.now - last.sent_at).days
        card = thread_message(ctx, cohort, first, f"Unanswered for {waited} days")
        for ref in _coordinator_refs(ctx, cohort):
            queue(ctx.uow, f"inbox-remind:{first.id}:{ctx.now.isoformat()}:{ref.user_id}", to_user(ref), card,
                  ctx.now)  # fmt: skip
        reminded += 1
    return reminded


# ---- routes -----------------------------------------------------------------------------------


def _contact(call: Call) -> Outcome:
    member = call.the_member
    text = " ".join(call.args).strip()
    if text:
        return Reply(receive(call.ctx, member, text))
    return ShowForm(Form("contact", "Talk to the coordinator",
                         (LongText("text", "Your message to the coordinators", max_chars=MAX_CHARS),),
                         submit_label="Send"))  # fmt: skip


def _contact_sent(call: Call) -> Outcome:
    raw = call.values.get("text")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FormErrors({"text": "Please write your message before sending."})
    if len(text) > MAX_CHARS:
        return FormErrors({"text": f"Your message is {len(text)} characters; the limit is 2,000."})
    return CloseForm(receive(call.ctx, call.the_member, text))


def _reply_form(call: Call) -> Outcome:
    first: InboxMessage = call.target
    if first.resolved_at is not None:
        raise Refusal("That conversation has been resolved; the person can write again to open a new one.")
    buddy = call.ctx.uow.participants.get(first.participant_id)
    label = f"Your reply to {buddy.display_name if buddy else 'them'}"[:150]
    return ShowForm(Form("inbox_reply", "Reply", (LongText("text", label, max_chars=MAX_CHARS),),
                         submit_label="Send", state=str(first.id)))  # fmt: skip


def _reply_sent(call: Call) -> Outcome:
    raw = call.values.get("text")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return FormErrors({"text": "Please write your reply before sending."})
    if len(text) > MAX_CHARS:
        return FormErrors({"text": f"Your reply is {len(text)} characters; the limit is 2,000."})
    first: InboxMessage = call.target
    if first.resolved_at is not None:
        return FormErrors({"text": "That conversation has been resolved in the meantime."})
    reply(call.ctx, call.the_cohort, first, call.user, text)
    buddy = call.ctx.uow.participants.get(first.participant_id)
    return CloseForm(Message.simple(f"Sent your reply to {escape(buddy.display_name if buddy else 'them')}."))


def _resolve(call: Call) -> Message:
    first: InboxMessage = call.target
    if first.resolved_at is not None:
        return Message.simple("That conversation was already resolved.")
    first.resolved_at = call.ctx.now
    call.ctx.audit(call.the_cohort, call.user, "inbox_resolve", thread=first.id)
    return Message.simple("Resolved. If they write again, it starts a new conversation.")


def _inbox(call: Call) -> Message:
    ctx, cohort = call.ctx, call.the_cohort
    threads = ctx.uow.inbox.open_threads(cohort.id)
    if not threads:
        return Message.simple(
            f"The inbox of **{escape(cohort.name)}** is empty: nothing waits for an answer."
        )
    blocks: list[Block] = [Header(f"{cohort.name}: inbox"[:150])]
    for first in threads[:15]:
        card = thread_message(ctx, cohort, first, "")
        blocks += [b for b in card.blocks[1:]][-3:]
    if len(threads) > 15:
        blocks.append(Context(f"…and {len(threads) - 15} more, oldest first."))
    return Message(f"{len(threads)} open messages", tuple(blocks), carries_user_text=True)


def _export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    ids = [p.id for p in ctx.uow.participants.for_user(user)]
    return [{"cohort_id": m.cohort_id, "from": "coordinator" if m.author else "you", "text": m.text,
             "sent_at": m.sent_at.isoformat()} for m in ctx.uow.inbox.for_participants(ids)]  # fmt: skip


def _erase(ctx: Ctx, user: UserRef) -> int:
    ids = [p.id for p in ctx.uow.participants.for_user(user)]
    rows = ctx.uow.inbox.for_participants(ids)
    for m in rows:
        ctx.uow.inbox.delete(m)
    return len(rows)


holding("messages to and from coordinators", export=_export, erase=_erase)

ROUTES = (
    command("contact [message]", "talk to the coordinator: your message goes to them", _contact),
    command("inbox", "messages from buddies waiting for an answer", _inbox, who=Who.COORDINATOR),
    button("inbox_reply", _reply_form, who=Who.COORDINATOR, target="inbox_thread"),
    button("inbox_resolve", _resolve, who=Who.COORDINATOR, target="inbox_thread"),
    form("contact", _contact_sent, error_field="text"),
    form("inbox_reply", _reply_sent, who=Who.COORDINATOR, target="inbox_thread", error_field="text"),
)  # fmt: skip
