"""Network events: a real date and time, a place or a link, a capacity with a waiting list,
volunteers, answers (Going, Maybe, Not going), a calendar file, a reminder the day before, an
attendee list for organisers, and announcements to the subscribers they concern, once each."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from conversations.core import patient_data
from conversations.core import vocabulary as v
from conversations.core.interactions import CloseForm, FormErrors, Outcome, ShowForm
from conversations.core.markup import escape
from conversations.core.model import Status
from conversations.core.network import Event, Rsvp, Subscription
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command, form
from conversations.core.views import (
    Actions,
    Block,
    Button,
    DateField,
    FileAttachment,
    Form,
    LongText,
    Message,
    MultiSelect,
    Option,
    Section,
    Select,
    ShortText,
)
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call, id_number, target
from conversations.flows.personal import holding, own, own_rows

FORM_ID = "event_add"
VOLUNTEER_FORM = "event_volunteer"
ANSWERS = {"event_going": "going", "event_maybe": "maybe", "event_not_going": "not_going"}
SAID = {"going": "Going", "maybe": "Maybe", "not_going": "Not going", "waiting": "On the waiting list"}
REMIND_BEFORE = timedelta(days=1)
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


# ---- reading ---------------------------------------------------------------------------------------


def _zone(event: Event) -> ZoneInfo:
    try:
        return ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def when(event: Event) -> str:
    zone = _zone(event)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    same_day = start.date() == end.date()
    text = (
        f"{start:%a %-d %b %Y, %H:%M}–{end:%H:%M}"
        if same_day
        else f"{start:%a %-d %b %Y, %H:%M} to {end:%a %-d %b, %H:%M}"
    )
    return text + ("" if event.timezone == "Europe/London" else f" ({event.timezone})")


def where(event: Event) -> str:
    return " and ".join(x for x in (event.place, "online" if event.link else "") if x) or "to be confirmed"


def summary_line(event: Event) -> str:
    return f"{event.number}. 📅 **{escape(event.title)}**, {escape(when(event))}, {escape(where(event))}"


def _answers(ctx: Ctx, event: Event) -> list[Rsvp]:
    return ctx.uow.records(Rsvp).where(event_id=event.id)


def _going(ctx: Ctx, event: Event) -> list[Rsvp]:
    return [r for r in _answers(ctx, event) if r.answer == "going"]


def places_left(ctx: Ctx, event: Event) -> int | None:
    return None if event.capacity is None else max(0, event.capacity - len(_going(ctx, event)))


def card(ctx: Ctx, event: Event, *, for_user: UserRef | None = None, file: bool = False) -> Message:
    """An event with its answer buttons; with ``file``, its calendar file attached."""
    lines = [f"📅 **{escape(event.title)}** (event {event.number})", f"**When:** {escape(when(event))}",
             f"**Where:** {escape(where(event))}"]  # fmt: skip
    if event.description:
        lines.append(escape(event.description))
    left = places_left(ctx, event)
    if left is not None:
        lines.append(
            f"{left} of {event.capacity} places left"
            + ("; answer Going to join the waiting list." if not left else ".")
        )
    if event.volunteer_roles:
        lines.append("Volunteers wanted: " + escape(", ".join(event.volunteer_roles)) + ".")
    if for_user is not None:
        mine = _mine(ctx, event, for_user)
        if mine is not None:
            lines.append(
                f"Your answer: **{SAID[mine.answer]}**"
                + (f", volunteering as {escape(mine.role)}" if mine.role else "")
                + "."
            )
    buttons = [Button("Going", "event_going", str(event.id), style="primary"), Button("Maybe", "event_maybe", str(event.id)),
               Button("Not going", "event_not_going", str(event.id))]  # fmt: skip
    if event.volunteer_roles:
        buttons.append(Button("Volunteer", "event_volunteer", str(event.id), opens_form=True))
    blocks: list[Block] = [Section("\n".join(lines)), Actions(tuple(buttons))]
    if event.link.startswith("https://"):
        blocks.append(Actions((Button("Open the joining link", "open_channel", url=event.link),)))
    attachment = (
        FileAttachment(f"buddy-event-{event.number}.ics", ics(event), title=event.title) if file else None
    )
    return Message(
        f"Event {event.number}: {event.title}", tuple(blocks), file=attachment, carries_user_text=True
    )


def ics(event: Event) -> str:
    """The event as an iCalendar file (RFC 5545) that calendars import."""
    calendar = Calendar()
    calendar.add("prodid", "-//Buddy//NHS buddy scheme//EN")
    calendar.add("version", "2.0")
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}-{event.workspace}@buddy")
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_at.astimezone(_zone(event)))
    entry.add("dtend", event.ends_at.astimezone(_zone(event)))
    entry.add("dtstamp", event.created_at or event.starts_at)
    if event.place or event.link:
        entry.add("location", event.place or event.link)
    if event.link:
        entry.add("url", event.link)
    if event.description:
        entry.add("description", event.description)
    calendar.add_component(entry)
    return calendar.to_ical().decode()


def _mine(ctx: Ctx, event: Event, user: UserRef) -> Rsvp | None:
    return next((r for r in own(ctx, user, Rsvp) if r.event_id == event.id), None)


def _upcoming(ctx: Ctx, user: UserRef) -> list[Event]:
    return sorted((e for e in ctx.uow.records(Event).where(platform=user.platform, workspace=user.workspace)
                   if not e.cancelled and e.ends_at > ctx.now), key=lambda e: (e.starts_at, e.number))  # fmt: skip


def _by_number(ctx: Ctx, user: UserRef, args: tuple[str, ...], verb: str) -> Event:
    events = ctx.uow.records(Event).where(platform=user.platform, workspace=user.workspace)
    if len(args) != 1 or not args[0].isdigit():
        numbers = ", ".join(str(e.number) for e in _upcoming(ctx, user))
        raise Refusal(f"Say which event by its number, e.g. `{verb} 3`." + (f" Coming up: {numbers}." if numbers
                      else " There are no events coming up."))  # fmt: skip
    found = next((e for e in events if e.number == int(args[0])), None)
    if found is None:
        raise Refusal(f"There's no event {int(args[0])}. `events` lists what's coming up.")
    return found


@target("event")
def _event(ctx: Ctx, user: UserRef, value: str) -> tuple[Event, None]:
    """An event of the actor's own network, not cancelled."""
    number = id_number(value)
    event = ctx.uow.records(Event).get(number) if number is not None else None
    if (
        event is None
        or (event.platform, event.workspace) != (user.platform, user.workspace)
        or event.cancelled
    ):
        raise Refusal("That event has been cancelled or no longer exists. `events` lists what's coming up.")
    return event, None


# ---- what members do -----------------------------------------------------------------------------------


def list_events(call: Call) -> Message:
    events = _upcoming(call.ctx, call.user)
    if not events:
        return Message.simple(
            "No events are coming up. `subscribe REGION-OR-TOPIC` and I'll tell you when one is."
        )
    blocks: list[Block] = []
    for event in events[:12]:
        blocks += card(call.ctx, event, for_user=call.user).blocks
    return Message("Events coming up", tuple(blocks), carries_user_text=True)


def show_event(call: Call) -> Message:
    event = _by_number(call.ctx, call.user, call.args, "event")
    return card(call.ctx, event, for_user=call.user, file=call.ctx.caps(call.user.platform).send_files)


def answer(call: Call) -> Message:
    """Going, Maybe or Not going; Going when the event is full puts the person on its waiting list,
    and a place given up goes to the longest waiting."""
    event: Event = call.target
    ctx, user = call.ctx, call.user
    said = ANSWERS[call.route.action_id]  # type: ignore[union-attr]
    if event.starts_at <= ctx.now:
        raise Refusal(f"**{escape(event.title)}** has already started, so answers are closed.")
    mine = _mine(ctx, event, user)
    before = mine.answer if mine else ""
    if said == "going" and before not in ("going", "waiting") and places_left(ctx, event) == 0:
        said = "waiting"
    if said == "going" and before == "waiting":
        said = "waiting"  # still waiting for a place
    if mine is None:
        mine = ctx.uow.records(Rsvp).add(
            Rsvp(event.id, user.platform, user.workspace, user.user_id, said, at=ctx.now)
        )
    else:
        mine.answer, mine.at = said, ctx.now
    if before == "going" and said != "going":
        _promote(ctx, event)
    if said == "waiting":
        waiting = sorted(
            (r for r in _answers(ctx, event) if r.answer == "waiting"), key=lambda r: (r.at, r.id)
        )
        position = next(i for i, r in enumerate(waiting, start=1) if r.id == mine.id)
        return Message.simple(f"**{escape(event.title)}** is full, so you're number {position} on the waiting list. "
                              "I'll tell you as soon as a place comes up.")  # fmt: skip
    reply = {"going": "see you there! I'll remind you the day before.", "maybe": "noted as a maybe.",
             "not_going": "thanks for letting the organisers know."}[said]  # fmt: skip
    return Message.simple(f"**{escape(event.title)}**: {reply} `event {event.number}` has the calendar file.")


def _promote(ctx: Ctx, event: Event) -> None:
    while places_left(ctx, event):
        waiting = sorted(
            (r for r in _answers(ctx, event) if r.answer == "waiting"), key=lambda r: (r.at, r.id)
        )
        if not waiting:
            return
        first = waiting[0]
        first.answer = "going"
        queue(ctx.uow, f"event-place:{event.id}:{first.user_id}", to_user(first.ref), Message.simple(
            f"A place came up at **{escape(event.title)}** ({escape(when(event))}) and it's yours. If you can't "
            f"make it after all, answer Not going in `event {event.number}` so someone else can come."), ctx.now)  # fmt: skip


def volunteer_form(call: Call) -> Outcome:
    event: Event = call.target
    if not event.volunteer_roles:
        raise Refusal(f"The organisers haven't asked for volunteers for **{escape(event.title)}**.")
    options = tuple(Option(role, role) for role in event.volunteer_roles)
    return ShowForm(Form(VOLUNTEER_FORM, "Volunteer", (Select("role", f"How would you like to help at {event.title}?"[:150],
                                                              options),), submit_label="Volunteer",
                         state=str(event.id)))  # fmt: skip


def volunteer(call: Call) -> Outcome:
    event: Event = call.target
    role = call.values.get("role")
    if not isinstance(role, str) or role not in event.volunteer_roles:
        return FormErrors({"role": "Choose one of the roles listed."})
    ctx, user = call.ctx, call.user
    mine = _mine(ctx, event, user)
    if mine is None:
        ctx.uow.records(Rsvp).add(
            Rsvp(event.id, user.platform, user.workspace, user.user_id, "going", role, ctx.now)
        )
    else:
        mine.role = role
        if mine.answer != "going":
            mine.answer = "going"  # volunteers come: they never wait for a place
    for organiser in event.organisers:
        queue(ctx.uow, f"event-volunteer:{event.id}:{user.user_id}:{role}", to_user(UserRef(user.platform, user.workspace, organiser)),
              Message.simple(f"{{@{user.user_id}}} volunteered as **{escape(role)}** at **{escape(event.title)}**."), ctx.now)  # fmt: skip
    return CloseForm(Message.simple(f"Thank you! You're volunteering as **{escape(role)}** at **{escape(event.title)}**; "
                                    "the organisers have been told."))  # fmt: skip


# ---- what organisers do ----------------------------------------------------------------------------------


def add_form(call: Call) -> ShowForm:
    zone = "Europe/London"
    return ShowForm(Form(FORM_ID, "Add an event", (
        ShortText("title", "Title", max_chars=120, placeholder="e.g. North West ops meet-up"),
        DateField("date", "Date"),
        ShortText("start", "Starts at (24-hour clock)", max_chars=5, placeholder="18:00"),
        ShortText("end", "Ends at", max_chars=5, placeholder="20:00"),
        ShortText("timezone", "Time zone", max_chars=64, initial=zone),
        ShortText("place", "Place (or leave empty for online only)", max_chars=200, required=False),
        ShortText("link", "Online link (https://...)", max_chars=500, required=False),
        ShortText("capacity", "Places (leave empty for no limit)", max_chars=5, required=False),
        ShortText("volunteers", "Volunteer roles, separated by commas", max_chars=200, required=False,
                  placeholder="e.g. welcome desk, note taker"),
        Select("region", "Region (subscribers there are told)", tuple(Option(k, x) for k, x in v.REGIONS.items()),
               required=False),
        MultiSelect("topics", "Topics (subscribers are told)", tuple(Option(k, x) for k, x in v.INTERESTS.items()),
                    required=False, max_selected=3),
        LongText("description", "Description", required=False, word_limit=150),
    ), submit_label="Add event", state=""))  # fmt: skip


def _text(values: Mapping[str, object], key: str) -> str:
    value = values.get(key)
    return value.strip() if isinstance(value, str) else ""


def add(call: Call) -> Outcome:
    """The event form: every field checked, the whole form's problems at once, nothing saved until right."""
    values = dict(call.values)
    errors: dict[str, str] = {}
    title = _text(values, "title")
    if len(title) < 3:
        errors["title"] = "Give the event a title of at least 3 characters."
    zone_name = _text(values, "timezone") or "Europe/London"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"], zone = (
            f"“{zone_name}” isn't a time zone: use a name like Europe/London.",
            ZoneInfo("UTC"),
        )
    try:
        day = date.fromisoformat(_text(values, "date"))
    except ValueError:
        errors["date"], day = "Choose the date of the event.", None
    times = {}
    for key, label in (("start", "start"), ("end", "end")):
        found = _TIME.match(_text(values, key))
        if found is None:
            errors[key] = f"Give the {label} time as HH:MM on the 24-hour clock, e.g. 18:00."
        else:
            times[key] = time(int(found.group(1)), int(found.group(2)))
    starts = ends = None
    if day is not None and len(times) == 2 and "timezone" not in errors:
        starts = datetime.combine(day, times["start"], zone).astimezone(UTC)
        ends = datetime.combine(day, times["end"], zone).astimezone(UTC)
        if ends <= starts:
            errors["end"] = "The event must end after it starts."
        if starts <= call.ctx.now:
            errors["date"] = "That's in the past: choose a date and time still to come."
    link = _text(values, "link")
    if link and not link.startswith("https://"):
        errors["link"] = "The online link must start with https://"
    capacity_text = _text(values, "capacity")
    capacity = None
    if capacity_text:
        if not capacity_text.isdigit() or int(capacity_text) < 1:
            errors["capacity"] = "Places must be a whole number of at least 1, or empty for no limit."
        else:
            capacity = int(capacity_text)
    if not _text(values, "place") and not link:
        errors["place"] = "Give a place, an online link, or both."
    for key, what in (("title", "the title"), ("description", "the description"), ("place", "the place")):
        problem = patient_data.check(_text(values, key), what=what)  # never echoed
        if problem and key not in errors:
            errors[key] = problem
    if errors:
        return FormErrors(errors)
    assert starts is not None and ends is not None
    ctx, user = call.ctx, call.user
    existing = ctx.uow.records(Event).where(platform=user.platform, workspace=user.workspace)
    topics = values.get("topics")
    event = ctx.uow.records(Event).add(Event(
        user.platform, user.workspace, max((e.number for e in existing), default=0) + 1, title[:120], starts, ends,
        zone_name, _text(values, "place")[:200], link[:500], capacity, _text(values, "description")[:1200],
        _text(values, "region") if _text(values, "region") in v.REGIONS else "",
        [t for t in topics if t in v.INTERESTS] if isinstance(topics, list | tuple) else [],
        [r.strip()[:60] for r in _text(values, "volunteers").split(",") if r.strip()][:8], [user.user_id],
        created_at=ctx.now))  # fmt: skip
    ctx.audit(None, user, "event_add", event=event.number)
    return CloseForm(Message.simple(f"Added event {event.number}: **{escape(title)}**, {escape(when(event))}. "
                                    f"`event announce {event.number}` tells the subscribers it concerns."))  # fmt: skip


def _organising(ctx: Ctx, user: UserRef, event: Event) -> None:
    if not (ctx.is_organiser(user) or user.user_id in event.organisers):
        raise Refusal("Only the network's organisers can do that.")


def cancel(call: Call) -> Message:
    ctx, user = call.ctx, call.user
    event = _by_number(ctx, user, call.args, "event cancel")
    if event.cancelled:
        raise Refusal(f"Event {event.number} is already cancelled.")
    event.cancelled = True
    told = 0
    for r in _answers(ctx, event):
        if r.answer in ("going", "maybe", "waiting"):
            told += queue(ctx.uow, f"event-cancelled:{event.id}:{r.user_id}", to_user(r.ref), Message.simple(
                f"Sorry: **{escape(event.title)}** ({escape(when(event))}) has been cancelled."), ctx.now)  # fmt: skip
    ctx.audit(None, user, "event_cancel", event=event.number, told=told)
    return Message.simple(f"Cancelled event {event.number}, **{escape(event.title)}**; told {told} "
                          f"{'person' if told == 1 else 'people'} who had answered.")  # fmt: skip


def attendees(call: Call) -> Message:
    """``event attendees N``: who answered what, volunteers' roles, and a CSV file."""
    ctx, user = call.ctx, call.user
    event = _by_number(ctx, user, call.args, "event attendees")
    rows = sorted(_answers(ctx, event), key=lambda r: (list(SAID).index(r.answer), r.at or ctx.now))
    counts = {a: sum(1 for r in rows if r.answer == a) for a in SAID}
    lines = [
        f"**{escape(event.title)}**, {escape(when(event))}: "
        + ", ".join(f"{SAID[a]} {n}" for a, n in counts.items())
    ]
    for answer_ in SAID:
        people = [
            f"{{@{r.user_id}}}" + (f" ({escape(r.role)})" if r.role else "")
            for r in rows
            if r.answer == answer_
        ]
        if people:
            lines.append(
                f"**{SAID[answer_]}:** " + ", ".join(people[:60]) + (" …" if len(people) > 60 else "")
            )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user_id", "answer", "volunteer_role", "answered_at"])
    for r in rows:
        writer.writerow([r.user_id, r.answer, r.role, r.at.isoformat() if r.at else ""])
    file = FileAttachment(f"buddy-event-{event.number}-attendees.csv", out.getvalue(), title=f"Attendees: {event.title}") \
        if ctx.caps(user.platform).send_files else None  # fmt: skip
    ctx.audit(None, user, "event_attendees", event=event.number, rows=len(rows))
    return Message(
        f"Attendees of event {event.number}", (Section("\n".join(lines)),), file=file, carries_user_text=True
    )


def announce(call: Call) -> Message:
    """``event announce N``: to subscribers of the event's region or topics, and (an event for
    everyone) to every subscriber and everyone taking part in a scheme here; once each."""
    ctx, user = call.ctx, call.user
    event = _by_number(ctx, user, call.args, "event announce")
    if event.cancelled or event.ends_at <= ctx.now:
        raise Refusal(
            f"Event {event.number} is {'cancelled' if event.cancelled else 'over'}, so there's nothing to announce."
        )
    subs = ctx.uow.records(Subscription).where(platform=user.platform, workspace=user.workspace)
    wanted = {("region", event.region)} | {("topic", t) for t in event.topics}
    audience = {
        s.user_id for s in subs if (s.kind, s.value) in wanted or (not event.region and not event.topics)
    }
    if not event.region and not event.topics:
        for cohort in ctx.here(user):
            audience |= {p.user_id for p in ctx.uow.participants.in_cohort(cohort.id, (Status.REGISTERED, Status.WAITING, Status.MATCHED))
                         if not p.unreachable}  # fmt: skip
    if not audience:
        return Message.simple(f"Nobody is subscribed to {escape(event.title)}'s region or topics yet, so I haven't "
                              "told anyone. People `subscribe` to hear about events.")  # fmt: skip
    message = card(ctx, event)
    told = sum(queue(ctx.uow, f"event-announce:{event.id}:{uid}", to_user(UserRef(user.platform, user.workspace, uid)),
                     message, ctx.now) for uid in sorted(audience))  # fmt: skip
    ctx.audit(None, user, "event_announce", event=event.number, told=told)
    if not told:
        return Message.simple(
            f"Everyone it concerns ({len(audience)}) has already heard about **{escape(event.title)}**."
        )
    return Message.simple(
        f"Announced **{escape(event.title)}** to {told} {'person' if told == 1 else 'people'}."
    )


# ---- the day before --------------------------------------------------------------------------------------


def remind(ctx: Ctx) -> int:
    """A reminder to everyone going, the day before each event (once each); a periodic job."""
    sent = 0
    for event in ctx.uow.records(Event).where(cancelled=False):
        if not ctx.now < event.starts_at <= ctx.now + REMIND_BEFORE:
            continue
        for r in _going(ctx, event):
            sent += queue(ctx.uow, f"event-reminder:{event.id}:{r.user_id}", to_user(r.ref), Message.simple(
                f"Reminder: **{escape(event.title)}** is tomorrow, {escape(when(event))}, {escape(where(event))}."
                + (f" Joining link: {escape(event.link)}" if event.link else "")), ctx.now)  # fmt: skip
    return sent


def _describe(ctx: Ctx, r: Rsvp) -> dict[str, Any]:
    event = ctx.uow.records(Event).get(r.event_id)
    return {"event": event.title if event else r.event_id, "answer": SAID.get(r.answer, r.answer),
            "volunteer_role": r.role, "at": r.at.isoformat() if r.at else ""}  # fmt: skip


def _after_answer_erased(ctx: Ctx, r: Rsvp) -> None:
    event = ctx.uow.records(Event).get(r.event_id)
    if event is not None and r.answer == "going":
        _promote(ctx, event)  # their place goes to the longest waiting


def _organised(ctx: Ctx, user: UserRef) -> list[Event]:
    return [e for e in ctx.uow.records(Event).where(platform=user.platform, workspace=user.workspace)
            if user.user_id in e.organisers]  # fmt: skip


def _stop_organising(ctx: Ctx, user: UserRef) -> int:
    events = _organised(ctx, user)
    for event in events:
        event.organisers = [o for o in event.organisers if o != user.user_id]
    return len(events)


own_rows("event answers", Rsvp, _describe, after_delete=_after_answer_erased)
holding("events you organise", export=lambda ctx, user: [f"{e.number}. {e.title}" for e in _organised(ctx, user)],
        erase=_stop_organising)  # fmt: skip


ROUTES = (
    command("events", "events coming up, with Going, Maybe and Not going", list_events, who=Who.ANYONE),
    command("event N", "one event in detail, with a calendar file", show_event, who=Who.ANYONE),
    command("event add", "add an event: date, time, place or link, places and volunteers", add_form,
            who=Who.ORGANISER),
    command("event cancel N", "cancel event N and tell everyone who answered", cancel, who=Who.ORGANISER),
    command("event attendees N", "who is going, maybe, not going or waiting, as a list and a file", attendees,
            who=Who.ORGANISER),
    command("event announce N", "tell the subscribers it concerns about event N, once each", announce,
            who=Who.ORGANISER),
    form(FORM_ID, add, who=Who.ORGANISER),
    *(button(action, answer, who=Who.ANYONE, target="event") for action in ANSWERS),
    button("event_volunteer", volunteer_form, who=Who.ANYONE, target="event"),
    form(VOLUNTEER_FORM, volunteer, who=Who.ANYONE, target="event", error_field="role"),
)  # fmt: skip
