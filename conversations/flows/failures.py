"""When a post cannot be delivered: mark unreachable people, tell their coordinators, and let a
coordinator settle a post whose fate is unknown (``held``): it arrived, or send it again."""

from __future__ import annotations

from conversations.core.markup import escape
from conversations.core.model import Cohort, OutboxItem, Participant
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.routes import Who, button
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_conversation, to_user
from conversations.flows.context import OPERATOR, Ctx, Refusal
from conversations.flows.lookup import target
from conversations.ports.messenger import DeliveryError

ARRIVED = "outbox_arrived"
RESEND = "outbox_resend"


def recipients(ctx: Ctx, item: OutboxItem) -> tuple[list[str], list[Participant]]:
    """The user ids a post was for, and the participants they are."""
    recipient = item.recipient
    user_ids = recipient.get("user_ids") or ([recipient["user_id"]] if "user_id" in recipient else [])
    people = [
        p
        for uid in user_ids
        for p in ctx.uow.participants.for_user(UserRef(recipient["platform"], recipient["workspace"], uid))
    ]
    return list(user_ids), people


def delivery_failed(ctx: Ctx, item: OutboxItem, error: DeliveryError) -> None:
    if item.key.startswith("failed:"):
        return  # never alert about a failed alert
    user_ids, people = recipients(ctx, item)
    if error.unreachable:
        # a group post names the member it failed for; a 1:1 post can only mean its recipient
        blocked = error.user_id or (user_ids[0] if len(user_ids) == 1 else "")
        for p in people:
            p.unreachable = p.unreachable or p.user_id == blocked
    for cohort_id in sorted({p.cohort_id for p in people}):
        names = ", ".join(escape(p.display_name) for p in people if p.cohort_id == cohort_id
                          and (not error.user_id or p.user_id == error.user_id))  # fmt: skip
        if error.unknown:
            text = (f"I can't tell whether a message reached {names}: I was interrupted while sending it and "
                    "the platform doesn't let me check. I won't send it again unless you say so, so nobody "
                    "gets it twice. Please check with them, then tell me.")  # fmt: skip
            buttons = (
                Button("It arrived", ARRIVED, str(item.id)),
                Button("Send it again", RESEND, str(item.id)),
            )
            message = Message(text, (Section(text), Actions(buttons)))
        elif "app_not_installed" in error.code:
            text = (f"I couldn't send a message to {names}: they need the Buddy app installed in Teams, and I "
                    "couldn't add it for them. Please ask them to add Buddy (in Teams: Apps, then search for "
                    "Buddy), or ask your Teams admin to let Buddy install itself for people.")  # fmt: skip
            message = Message.simple(text)
        else:
            text = (f"I couldn't deliver a message to {names} ({escape(error.code)}). "
                    + ("They may have blocked me or left the workspace; I've stopped sending to them. "
                       if error.unreachable else "")
                    + "Please get in touch with them another way.")  # fmt: skip
            message = Message.simple(text)
        for c in ctx.uow.cohorts.coordinators(cohort_id):
            coordinator = UserRef(c.platform, c.workspace, c.user_id)
            queue(ctx.uow, f"failed:{item.key}:{c.user_id}", to_user(coordinator), message, ctx.now)


def _held_item(ctx: Ctx, value: str) -> tuple[OutboxItem, list[Participant], list[Cohort]]:
    item = ctx.uow.outbox.get(int(value)) if value.isascii() and value.isdigit() and len(value) < 19 else None
    if item is None:
        raise Refusal("That message is no longer in my outbox.")
    _, people = recipients(ctx, item)
    cohorts = [c for c in (ctx.uow.cohorts.get(i) for i in sorted({p.cohort_id for p in people})) if c]
    return item, people, cohorts


@target("held_post")
def _held_post(ctx: Ctx, user: UserRef, value: str) -> tuple[OutboxItem, Cohort | None]:
    """A post in the outbox, for a coordinator of one of its recipients."""
    item, _, cohorts = _held_item(ctx, value)
    mine = [c for c in cohorts if ctx.is_coordinator(user, c)]
    if not mine:
        raise Refusal("Only a coordinator of the people it was for can settle that message.")
    return item, mine[0]


def settle(ctx: Ctx, user: UserRef | None, value: str, resend: bool) -> Message:
    """Settle a held post: ``resend`` puts it back in the queue, otherwise it is recorded as sent.
    ``user`` must coordinate a cohort of one of its recipients (None: an operator at the CLI)."""
    item, people, cohorts = _held_item(ctx, value)
    if user is not None and not any(ctx.is_coordinator(user, c) for c in cohorts):
        raise Refusal("Only a coordinator of the people it was for can settle that message.")
    names = ", ".join(escape(p.display_name) for p in people) or "its recipients"
    if item.status != "held":
        done = {"sent": "it has been sent", "pending": "it is waiting to be sent again"}
        return Message.simple(
            f"That message to {names} is already settled: {done.get(item.status, item.status)}."
        )
    if resend:
        ctx.uow.outbox.requeue(item, ctx.now)
        text = f"I'll send that message to {names} again now."
    else:
        item.status, item.sent_at, item.error, item.not_before = "sent", ctx.now, "", None
        text = f"Thanks: I've recorded that message to {names} as delivered."
    actor = user or OPERATOR
    outcome = "resend" if resend else "arrived"
    for cohort in cohorts:
        _audit(ctx, cohort, actor, item, outcome)
    if not cohorts:
        _audit(ctx, None, actor, item, outcome)
    return Message.simple(text)


def _audit(ctx: Ctx, cohort: Cohort | None, actor: UserRef, item: OutboxItem, outcome: str) -> None:
    ctx.audit(cohort, actor, "outbox_settle", item=item.id, key=item.key, outcome=outcome)


def held(ctx: Ctx) -> list[tuple[OutboxItem, str]]:
    """Every held post with whom it was for, oldest first (for operators)."""
    rows = []
    for item in ctx.uow.outbox.by_status("held"):
        _, people = recipients(ctx, item)
        rows.append((item, ", ".join(p.display_name for p in people)))
    return rows


ROUTES = (
    button(ARRIVED, lambda call: settle(call.ctx, call.user, str(call.target.id), resend=False),
           who=Who.COORDINATOR, target="held_post"),
    button(RESEND, lambda call: settle(call.ctx, call.user, str(call.target.id), resend=True),
           who=Who.COORDINATOR, target="held_post"),
)  # fmt: skip


def reply_undelivered(
    ctx: Ctx,
    user: UserRef,
    conversation: ConversationRef | None,
    message: Message,
    error: DeliveryError,
    key: str,
) -> None:
    """A reply the platform refused for good while answering someone: a person who blocked Buddy
    is marked unreachable (as the outbox does); anything else goes to the outbox, to be sent later."""
    if error.unreachable:
        for p in ctx.uow.participants.for_user(user):
            p.unreachable = True
        return
    recipient = to_conversation(conversation) if conversation is not None else to_user(user)
    queue(ctx.uow, key, recipient, message, ctx.now)
