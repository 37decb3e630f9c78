"""The network beyond the scheme: its organisers, community channels, subscriptions to regions
and topics, joining a channel, and a welcome in each channel. Anyone in the workspace or tenant
can use it, registered for a buddy scheme or not."""

from __future__ import annotations

from conversations.core import patient_data
from conversations.core import vocabulary as v
from conversations.core.interactions import Actor, MemberJoined, NoReply, Outcome
from conversations.core.markup import escape
from conversations.core.network import Channel, CoffeeIntro, CoffeeOptIn, Event, Organiser, Rsvp, Subscription
from conversations.core.refs import ConversationRef, UserRef
from conversations.core.routes import Who, command, on
from conversations.core.views import Actions, Block, Button, Context, Header, Message, Section
from conversations.delivery.outbox import queue, to_invite, to_user
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call
from conversations.flows.personal import own, own_rows


def _here(ctx: Ctx, user: UserRef, kind: type) -> list:  # type: ignore[type-arg]
    return ctx.uow.records(kind).where(platform=user.platform, workspace=user.workspace)


# ---- organisers -------------------------------------------------------------------------------------


def add_organiser(call: Call) -> Message:
    if len(call.mentions) != 1:
        raise Refusal("Mention one person: `organiser add @name`.")
    user = call.mentions[0]
    if not own(call.ctx, user, Organiser):
        call.ctx.uow.records(Organiser).add(Organiser(user.platform, user.workspace, user.user_id))
    call.ctx.audit(None, call.user, "organiser_add", user_id=user.user_id)
    return Message.simple(f"{{@{user.user_id}}} now organises the network here: channels, events, coffee and "
                          "experts. `help` shows them what they can do.")  # fmt: skip


def remove_organiser(call: Call) -> Message:
    if len(call.mentions) != 1:
        raise Refusal("Mention one person: `organiser remove @name`.")
    user = call.mentions[0]
    rows = own(call.ctx, user, Organiser)
    if not rows:
        raise Refusal(f"{{@{user.user_id}}} isn't one of the network's organisers.")
    for row in rows:
        call.ctx.uow.records(Organiser).delete(row)
    call.ctx.audit(None, call.user, "organiser_remove", user_id=user.user_id)
    return Message.simple(f"{{@{user.user_id}}} no longer organises the network.")


# ---- channels ------------------------------------------------------------------------------------------


def _channel_name(raw: str) -> str:
    name = raw.strip()
    return name if name.startswith("#") else "#" + name


def _region(raw: str) -> str:
    if not raw:
        return ""
    found = v.lookup(v.REGIONS, raw)
    if found is None:
        raise Refusal(f"“{escape(raw)}” isn't a region I know. Regions: {', '.join(v.REGIONS.values())}.")
    return found


def _topics(raw: str) -> list[str]:
    topics = []
    for word in [w for w in raw.split(",") if w.strip()]:
        found = v.lookup(v.INTERESTS, word)
        if found is None:
            raise Refusal(f"“{escape(word.strip())}” isn't a topic I know. Topics: {', '.join(v.INTERESTS)}.")
        topics.append(found)
    return topics


def add_channel(call: Call) -> Message:
    """``channel add "#name" https://link "description" [id=C123] [region=..] [topics=a,b]``."""
    args = call.args
    if len(args) < 2 or not args[1].startswith("https://") or len(args[0].strip("# ")) < 2:
        raise Refusal('Give the channel\'s name, a link that opens it and a description: `channel add '
                      '"#ops-north-west" https://... "Ops managers in the North West"`.')  # fmt: skip
    name = _channel_name(args[0])[:80]
    problem = patient_data.check(f"{name}\n{' '.join(args[2:])}", what="the channel's description")
    if problem:
        raise Refusal(problem)
    options = call.options
    channel_id = options.get("id", "")
    if (
        channel_id
        and not channel_id.replace("-", "").replace(":", "").replace("@", "").replace(".", "").isalnum()
    ):
        raise Refusal(
            "`id=` is the channel's id from its details (Slack: it starts with C), e.g. `id=C0123ABC`."
        )
    ctx, user = call.ctx, call.user
    records = ctx.uow.records(Channel)
    for old in records.where(platform=user.platform, workspace=user.workspace, name=name):
        records.delete(old)
    records.add(Channel(user.platform, user.workspace, name, " ".join(args[2:])[:300], args[1][:500],
                        channel_id[:64], _region(options.get("region", "")), _topics(options.get("topics", ""))))  # fmt: skip
    ctx.audit(None, user, "channel_add", name=name)
    joinable = (
        " People can `join "
        + name
        + "`"
        + (" and I'll add them." if channel_id else " and I'll give them the link.")
    )
    return Message.simple(f"Listed **{escape(name)}** in `community`.{escape(joinable)}")


def remove_channel(call: Call) -> Message:
    name = _channel_name(" ".join(call.args))
    ctx, user = call.ctx, call.user
    rows = ctx.uow.records(Channel).where(platform=user.platform, workspace=user.workspace, name=name)
    if not rows:
        raise Refusal(f"There's no community channel called “{escape(name)}”. `community` lists them.")
    for row in rows:
        ctx.uow.records(Channel).delete(row)
    ctx.audit(None, user, "channel_remove", name=name)
    return Message.simple(f"Unlisted **{escape(name)}**.")


def channels(ctx: Ctx, user: UserRef) -> list[Channel]:
    return sorted(_here(ctx, user, Channel), key=lambda c: c.name.lower())


def find_channel(ctx: Ctx, user: UserRef, raw: str) -> Channel:
    name = _channel_name(raw)
    for channel in channels(ctx, user):
        if channel.name.lower() == name.lower():
            return channel
    listed = ", ".join(c.name for c in channels(ctx, user)) or "none yet"
    raise Refusal(f"There's no community channel called “{escape(name)}” here. Channels: {escape(listed)}.")


def join_channel(ctx: Ctx, user: UserRef, raw: str) -> Message:
    """``join #channel``: Buddy adds the person where the platform lets it, else gives the link."""
    channel = find_channel(ctx, user, raw)
    link = (
        Actions((Button(f"Open {channel.name}"[:75], "open_channel", url=channel.url),))
        if channel.url
        else None
    )
    joined = Message(f"You're in {channel.name}", (Section(
        f"You're in **{escape(channel.name)}**: say hello! {escape(channel.description)}"),))  # fmt: skip
    fallback = Message(f"Join {channel.name}", tuple(b for b in (Section(
        f"Here's **{escape(channel.name)}**: open it and press Join. {escape(channel.description)}"), link) if b))  # fmt: skip
    if channel.channel_id and ctx.caps(user.platform).channel_invite:
        target = ConversationRef(user.platform, user.workspace, channel.channel_id, channel.url)
        queue(ctx.uow, f"invite:{channel.id}:{user.key}:{ctx.now:%Y%m%d%H%M}", to_invite(user, target, fallback),
              joined, ctx.now)  # fmt: skip
        ctx.audit(None, user, "channel_join", channel=channel.name)
        return Message.simple(f"Adding you to **{escape(channel.name)}** now: I'll confirm in our chat.")
    ctx.audit(None, user, "channel_join", channel=channel.name)
    return fallback


# ---- subscriptions ---------------------------------------------------------------------------------------


def _subject(word: str) -> tuple[str, str]:
    region = v.lookup(v.REGIONS, word)
    if region:
        return "region", region
    topic = v.lookup(v.INTERESTS, word)
    if topic:
        return "topic", topic
    raise Refusal(f"“{escape(word)}” isn't a region or topic I know. Regions: {', '.join(v.REGIONS)}; "
                  f"topics: {', '.join(v.INTERESTS)}.")  # fmt: skip


def _label(kind: str, value: str) -> str:
    return (v.REGIONS if kind == "region" else v.INTERESTS).get(value, value)


def subscriptions(ctx: Ctx, user: UserRef) -> list[Subscription]:
    return own(ctx, user, Subscription)


def subscribe(call: Call) -> Message:
    """``subscribe north_west digital``: hear about events in those regions and on those topics."""
    ctx, user = call.ctx, call.user
    words = [w for w in call.args if w.strip(",")]
    if not words:
        mine = subscriptions(ctx, user)
        if not mine:
            return Message.simple("You aren't subscribed to anything yet. Say, for example, `subscribe north_west "
                                  "digital` to hear about events in the North West and about digital and data.")  # fmt: skip
        listed = ", ".join(_label(s.kind, s.value) for s in mine)
        return Message.simple(f"You hear about events for: {escape(listed)}. `unsubscribe all` stops them.")
    wanted = [_subject(w.strip(",")) for w in words]
    have = {(s.kind, s.value) for s in subscriptions(ctx, user)}
    for kind, value in wanted:
        if (kind, value) not in have:
            ctx.uow.records(Subscription).add(
                Subscription(user.platform, user.workspace, user.user_id, kind, value)
            )
            have.add((kind, value))
    listed = ", ".join(_label(k, val) for k, val in wanted)
    return Message.simple(
        f"Subscribed: I'll tell you about events for {escape(listed)}. `unsubscribe` stops them."
    )


def unsubscribe(call: Call) -> Message:
    ctx, user = call.ctx, call.user
    mine = subscriptions(ctx, user)
    if not call.args:
        raise Refusal("Say what to stop: `unsubscribe north_west`, or `unsubscribe all`.")
    if [a.lower() for a in call.args] == ["all"]:
        drop = mine
    else:
        wanted = {_subject(w.strip(",")) for w in call.args}
        drop = [s for s in mine if (s.kind, s.value) in wanted]
        if not drop:
            raise Refusal("You weren't subscribed to that. `subscribe` shows what you are subscribed to.")
    for s in drop:
        ctx.uow.records(Subscription).delete(s)
    return Message.simple(f"Unsubscribed from {len(drop)} {'thing' if len(drop) == 1 else 'things'}.")


# ---- what everyone sees ------------------------------------------------------------------------------------


def upcoming(ctx: Ctx, user: UserRef) -> list[Event]:
    return sorted((e for e in _here(ctx, user, Event) if not e.cancelled and e.ends_at > ctx.now),
                  key=lambda e: (e.starts_at, e.number))  # fmt: skip


def community(ctx: Ctx, user: UserRef) -> Message:
    from conversations.flows.events import summary_line  # events build on the network

    listed = channels(ctx, user)
    events = upcoming(ctx, user)
    blocks: list[Block] = [Header("The network")]
    if not listed and not events:
        blocks.append(Section("No community channels or events have been listed yet; the network's organisers "
                              "add them. `subscribe` to hear when they do."))  # fmt: skip
    for ch in listed:
        where = f" ({v.REGIONS.get(ch.region, '')})" if ch.region else ""
        blocks.append(Section(f"**{escape(ch.name)}**{escape(where)}: {escape(ch.description)}"))
        buttons = [Button("Join", "run_command", f"join {ch.name}")]
        if ch.url.startswith("https://"):
            buttons.append(Button(f"Open {ch.name}"[:75], "open_channel", url=ch.url))
        blocks.append(Actions(tuple(buttons)))
    if events:
        blocks.append(Section("**Coming up** (`event N` for details and a calendar file)\n"
                              + "\n".join(summary_line(e) for e in events[:10])))  # fmt: skip
    blocks.append(Context("`subscribe REGION-OR-TOPIC` to hear about new events; `coffee on` to meet people from "
                          "other trusts; `join` to sign up for a buddy scheme."))  # fmt: skip
    return Message("Community channels and events", tuple(blocks))


def welcome(ctx: Ctx, actor: Actor, channel_id: str) -> Outcome:
    """Someone joined a channel Buddy is in: welcome them once, with the channel's purpose, what's
    coming up and how to join a scheme (a listed channel); elsewhere, an invitation to the scheme."""
    from conversations.flows.events import summary_line

    user = actor.ref
    listed = next((c for c in channels(ctx, user) if c.channel_id and c.channel_id == channel_id), None)
    registered = ctx.participant(user) is not None
    open_here = [c for c in ctx.here(user) if c.registration_open]
    if listed is None and (registered or not open_here):
        return NoReply()
    lines = []
    if listed is not None:
        lines.append(f"Welcome to **{escape(listed.name)}**! {escape(listed.description)}")
        events = [e for e in upcoming(ctx, user) if not e.region or e.region == listed.region][:3]
        if events:
            lines.append("Coming up:\n" + "\n".join(summary_line(e) for e in events))
    else:
        lines.append("Welcome to the network!")
    if not registered and open_here:
        lines.append("We run a buddy scheme that pairs clinicians with managers so each learns how the other side "
                     "works: a short virtual task a week, in your own time.")  # fmt: skip
    buttons = [Button("Community", "community", "")]
    if not registered and open_here:
        buttons.insert(0, Button("Join the buddy scheme", "join", "", style="primary"))
    text = "\n".join(lines)
    message = Message(text, (Section(text), Actions(tuple(buttons))))
    # once per listed channel; an invitation to the scheme from other channels, once in all
    key = f"welcome:{listed.id}:{user.key}" if listed is not None else f"welcome:{user.key}"
    queue(ctx.uow, key, to_user(user), message, ctx.now)
    return NoReply()


def figures(call: Call) -> Message:
    """``network``: the organisers' view of the network's reach."""
    ctx, user = call.ctx, call.user
    subs = _here(ctx, user, Subscription)
    optins = [o for o in _here(ctx, user, CoffeeOptIn) if o.active]
    intros = _here(ctx, user, CoffeeIntro)
    met = sum(1 for i in intros if i.met == "yes")
    events = _here(ctx, user, Event)
    going = sum(1 for e in events for r in ctx.uow.records(Rsvp).where(event_id=e.id) if r.answer == "going")
    fields = (
        ("Community channels", str(len(channels(ctx, user)))),
        ("Events (upcoming)", f"{len(events)} ({len(upcoming(ctx, user))})"),
        ("Going, across events", str(going)),
        ("Subscribers", str(len({s.user_id for s in subs}))),
        ("Coffee: opted in", str(len(optins))),
        ("Coffee: introductions (met)", f"{len(intros)} ({met})"),
    )
    return Message("The network", (Header("The network"), Section("", fields=fields)))


# ---- personal data -----------------------------------------------------------------------------------------


own_rows(
    "network subscriptions", Subscription, lambda ctx, s: {"kind": s.kind, "value": _label(s.kind, s.value)}
)
own_rows("network organiser role", Organiser, lambda ctx, o: {"workspace": o.workspace})


ROUTES = (
    command("community", "find the network's community channels and events",
            lambda call: community(call.ctx, call.user), who=Who.ANYONE),
    command("subscribe [REGION-OR-TOPIC ...]", "hear about events in a region or on a topic", subscribe,
            who=Who.ANYONE),
    command("unsubscribe REGION-OR-TOPIC|all", "stop hearing about them", unsubscribe, who=Who.ANYONE),
    command("network", "the network's figures: channels, events, subscribers, coffee", figures, who=Who.ORGANISER),
    command("organiser add @person", "make someone an organiser of the network", add_organiser, who=Who.ORGANISER),
    command("organiser remove @person", "stop someone organising the network", remove_organiser,
            who=Who.ORGANISER),
    command('channel add "#name" https://link "description" [id=ID] [region=...] [topics=...]',
            "list a community channel (with its id, Buddy adds people who `join` it)", add_channel,
            who=Who.ORGANISER),
    command("channel remove NAME", "unlist a community channel", remove_channel, who=Who.ORGANISER),
    on(MemberJoined, lambda call: welcome(call.ctx, call.actor, call.interaction.channel.conversation_id)),
)  # fmt: skip
