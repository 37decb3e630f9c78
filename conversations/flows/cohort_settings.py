"""Coordinators' per-cohort settings: nudge thresholds, trios, eligibility, matching weights,
and the community channels and events shown to members. Every value is checked before anything
is saved, and a mistake names the setting and says what it accepts."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import fields

from conversations.core.markup import escape
from conversations.core.model import Cohort, Status
from conversations.core.refs import UserRef
from conversations.core.routes import Who, command
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal
from conversations.matching import Weights

THRESHOLDS = ("nudge_pair_days", "nudge_individual_days", "alert_coordinator_days")
WEIGHTS = tuple(f.name for f in fields(Weights))
YES, NO = {"yes", "true", "on", "1"}, {"no", "false", "off", "0"}


def show(cohort: Cohort) -> Message:
    settings = cohort.settings or {}
    weights = {**{name: getattr(Weights(), name) for name in WEIGHTS}, **settings.get("weights", {})}
    grades = settings.get("eligible_grades")
    lines = [f"`{name}={getattr(cohort, name)}`" for name in THRESHOLDS]
    lines.append(f"`allow_trios={'yes' if cohort.allow_trios else 'no'}`")
    lines.append(f"`eligible_grades={','.join(grades) if grades else 'any'}`")
    lines += [f"`weight.{name}={value:g}`" for name, value in weights.items()]
    return Message(
        f"Settings of {cohort.name}",
        (
            Section(f"**Settings of {escape(cohort.name)}**\n" + "\n".join(lines)),
            Section("Change them with `cohort set name=value ...`."),
        ),  # fmt: skip
    )


def apply(
    ctx: Ctx, actor: UserRef, cohort: Cohort, options: Mapping[str, str], args: Sequence[str]
) -> Message:
    options = {k: v for k, v in options.items() if k != "cohort"}  # which cohort, not a setting
    if args or not options:
        raise Refusal("Write settings as `name=value`, e.g. `cohort set nudge_pair_days=3 allow_trios=yes`. "
                      "See them all with `cohort settings`.")  # fmt: skip
    settings = dict(cohort.settings or {})
    weights = dict(settings.get("weights", {}))
    thresholds = {name: getattr(cohort, name) for name in THRESHOLDS}
    allow_trios = cohort.allow_trios
    for name, raw in options.items():
        value = raw.strip()
        if name in THRESHOLDS:
            if not value.isdigit() or not 1 <= int(value) <= 60:
                raise Refusal(f"`{name}` must be a whole number of days from 1 to 60, not “{escape(value)}”.")
            thresholds[name] = int(value)
        elif name == "inbox_remind_days":  # unanswered buddies' messages remind coordinators (issue 13)
            if not value.isdigit() or not 1 <= int(value) <= 30:
                raise Refusal(f"`inbox_remind_days` must be a whole number of days from 1 to 30, not “{escape(value)}”.")
            settings["inbox_remind_days"] = int(value)
        elif name == "allow_trios":
            if value.lower() not in YES | NO:
                raise Refusal(f"`allow_trios` must be yes or no, not “{escape(value)}”.")
            allow_trios = value.lower() in YES
        elif name == "eligible_grades":
            grades = [g.strip() for g in value.split(",") if g.strip()]
            if value.lower() == "any":
                settings.pop("eligible_grades", None)
            elif not grades or any(len(g) > 40 for g in grades):
                raise Refusal(
                    "`eligible_grades` is a comma-separated list of grades (e.g. `FY2,CT1,ST1`) or `any`."
                )
            else:
                settings["eligible_grades"] = grades
        elif name.startswith("weight.") and name[len("weight.") :] in WEIGHTS:
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not 0 <= number <= 10:
                raise Refusal(f"`{name}` must be a number from 0 to 10, not “{escape(value)}”.")
            weights[name[len("weight.") :]] = number
        else:
            known = ", ".join(
                [*THRESHOLDS, "inbox_remind_days", "allow_trios", "eligible_grades", *(f"weight.{w}" for w in WEIGHTS)]
            )
            raise Refusal(f"There's no setting called `{escape(name)}`. Settings: {known}.")
    if (
        not thresholds["nudge_pair_days"]
        <= thresholds["nudge_individual_days"]
        <= thresholds["alert_coordinator_days"]
    ):
        raise Refusal(
            "Nudges escalate: `nudge_pair_days` ≤ `nudge_individual_days` ≤ `alert_coordinator_days`."
        )
    for name, days in thresholds.items():
        setattr(cohort, name, days)
    cohort.allow_trios = allow_trios
    if weights:
        settings["weights"] = weights
    cohort.settings = settings
    ctx.audit(cohort, actor, "settings", **dict(options))
    return show(cohort)


# ---- community channels and events -------------------------------------------------------------


def add_channel(ctx: Ctx, actor: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    if len(args) < 2 or not args[1].startswith("https://"):
        raise Refusal('Give a name, an https link and a description: `community add "#ops-chat" '
                      'https://... "Where operational managers talk"`.')  # fmt: skip
    name, url, description = args[0][:80], args[1][:500], " ".join(args[2:])[:300]
    channels = [c for c in (cohort.settings or {}).get("community", []) if c["name"].lower() != name.lower()]
    channels.append({"name": name, "url": url, "description": description})
    cohort.settings = {**(cohort.settings or {}), "community": channels}
    ctx.audit(cohort, actor, "community_add", name=name)
    return Message.simple(f"Added **{escape(name)}**: members see it with `community`.")


def remove_channel(ctx: Ctx, actor: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    name = " ".join(args)
    channels = (cohort.settings or {}).get("community", [])
    kept = [c for c in channels if c["name"].lower() != name.lower()]
    if len(kept) == len(channels):
        raise Refusal(f"There's no community channel called “{escape(name)}”.")
    cohort.settings = {**(cohort.settings or {}), "community": kept}
    ctx.audit(cohort, actor, "community_remove", name=name)
    return Message.simple(f"Removed **{escape(name)}**.")


def add_event(ctx: Ctx, actor: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    if len(args) < 2:
        raise Refusal('Give a title, when, and optionally a description: `event add "Winter meetup" "3 Dec, 6pm" '
                      '"Leeds, all welcome"`.')  # fmt: skip
    event = {"title": args[0][:120], "when": args[1][:80], "description": " ".join(args[2:])[:300]}
    cohort.settings = {
        **(cohort.settings or {}),
        "events": [*(cohort.settings or {}).get("events", []), event],
    }
    ctx.audit(cohort, actor, "event_add", title=event["title"])
    return Message.simple(f"Added **{escape(event['title'])}** ({escape(event['when'])}).")


ANNOUNCED_TO = (Status.REGISTERED, Status.WAITING, Status.MATCHED)  # not paused or left


def announce_event(ctx: Ctx, actor: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    """Tell every member who is taking part about event N, in their DM with Buddy, once each."""
    events = list((cohort.settings or {}).get("events", []))
    if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= len(events):
        raise Refusal(f"Say which event by its number in `community`, from 1 to {len(events)}." if events
                      else "There are no events to announce: add one with `event add`.")  # fmt: skip
    event = events[int(args[0]) - 1]
    text = (f"📅 **{escape(event['title'])}**, {escape(event['when'])}"
            + (f": {escape(event['description'])}" if event.get("description") else "")
            + f"\nFrom the coordinators of {escape(cohort.name)}.")  # fmt: skip
    message = Message(
        f"Event: {event['title']}, {event['when']}",
        (Section(text), Actions((Button("Community channels and events", "community", ""),))),
    )
    key = "event:" + hashlib.sha256(f"{cohort.id}|{event['title']}|{event['when']}".encode()).hexdigest()[:16]
    told = sum(
        queue(ctx.uow, f"{key}:{p.id}", to_user(p.ref), message, ctx.now)
        for p in ctx.uow.participants.in_cohort(cohort.id, ANNOUNCED_TO)
        if not p.unreachable
    )
    ctx.audit(cohort, actor, "event_announce", title=event["title"], told=told)
    if not told:
        return Message.simple(f"Everyone taking part has already heard about **{escape(event['title'])}**.")
    return Message.simple(
        f"Announced **{escape(event['title'])}** to {told} people. Paused and departed members are not told."
    )


def remove_event(ctx: Ctx, actor: UserRef, cohort: Cohort, args: Sequence[str]) -> Message:
    events = list((cohort.settings or {}).get("events", []))
    if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= len(events):
        raise Refusal(f"Say which event by its number in `community`, from 1 to {len(events)}." if events
                      else "There are no events to remove.")  # fmt: skip
    removed = events.pop(int(args[0]) - 1)
    cohort.settings = {**(cohort.settings or {}), "events": events}
    ctx.audit(cohort, actor, "event_remove", title=removed["title"])
    return Message.simple(f"Removed **{escape(removed['title'])}**.")


ROUTES = (
    command("cohort settings", "show the cohort's nudge, matching and trio settings",
            lambda call: show(call.the_cohort), who=Who.COORDINATOR),
    command("cohort set name=value ...", "change settings, e.g. nudge_pair_days=3",
            lambda call: apply(call.ctx, call.user, call.the_cohort, call.options, call.args), who=Who.COORDINATOR),
    command('community add "#name" https://link "description"', "list a channel",
            lambda call: add_channel(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command("community remove NAME", "unlist a community channel",
            lambda call: remove_channel(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command('event add "title" "when" "description"', "announce an event",
            lambda call: add_event(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command("event remove N", "remove event N",
            lambda call: remove_event(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
    command("event announce N", "tell every member about event N",
            lambda call: announce_event(call.ctx, call.user, call.the_cohort, call.args), who=Who.COORDINATOR),
)  # fmt: skip
