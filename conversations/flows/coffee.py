"""Coffee introductions: members who opt in are introduced, every few weeks, to someone from a
different trust (in the regions they chose), never the same person twice; a week later Buddy asks
whether they met. Nobody is ever introduced without opting in."""

from __future__ import annotations

from datetime import timedelta

from conversations.core import vocabulary as v
from conversations.core.markup import escape
from conversations.core.network import CoffeeIntro, CoffeeOptIn
from conversations.core.refs import UserRef
from conversations.core.routes import Who, button, command
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call, id_number, target
from conversations.flows.personal import holding, own, own_rows
from conversations.flows.together import together

CHECK_IN_AFTER = timedelta(days=7)
MET = {"coffee_met": "yes", "coffee_not_yet": "not_yet"}


def _optin(ctx: Ctx, user: UserRef) -> CoffeeOptIn | None:
    rows = own(ctx, user, CoffeeOptIn)
    return rows[0] if rows else None


def _regions(raw: str) -> list[str]:
    found = []
    for word in [w for w in raw.split(",") if w.strip()]:
        region = v.lookup(v.REGIONS, word)
        if region is None:
            raise Refusal(f"“{escape(word.strip())}” isn't a region I know. Regions: {', '.join(v.REGIONS)}.")
        found.append(region)
    return found


def coffee(call: Call) -> Message:
    """``coffee``, ``coffee on [every=N] [regions=a,b] [trust="..."]``, ``coffee off``."""
    ctx, user = call.ctx, call.user
    mine = _optin(ctx, user)
    verb = call.args[0].lower() if call.args else ""
    if verb == "off":
        if mine is None or not mine.active:
            return Message.simple("You're not signed up for coffee introductions. `coffee on` starts them.")
        mine.active = False
        return Message.simple("Coffee introductions are off: I won't introduce you to anyone new. `coffee on` "
                              "turns them back on.")  # fmt: skip
    if verb != "on":
        if call.args or call.options:
            raise Refusal("Say `coffee on` to be introduced to people from other trusts (`coffee on every=4` to "
                          "choose how often), or `coffee off` to stop.")  # fmt: skip
        if mine is None or not mine.active:
            return Message.simple("Coffee introductions put you in touch with someone from another trust every few "
                                  "weeks, for a 15-minute chat. `coffee on` signs you up; `coffee on every=4 "
                                  "regions=north_west` chooses how often and where.")  # fmt: skip
        where = ", ".join(v.REGIONS[r] for r in mine.regions) or "anywhere"
        return Message.simple(f"You're signed up: an introduction every {mine.every_weeks} weeks, to people from "
                              f"{escape(where)}. `coffee off` stops them.")  # fmt: skip
    every_text = call.options.get("every", str(mine.every_weeks if mine else 2))
    if not every_text.isdigit() or not 1 <= int(every_text) <= 12:
        raise Refusal(
            "`every=` is how many weeks between introductions, from 1 to 12, e.g. `coffee on every=4`."
        )
    regions = (
        _regions(call.options["regions"]) if "regions" in call.options else (mine.regions if mine else [])
    )
    member = ctx.participant(user)
    trust = (
        call.options.get("trust", "")
        or (mine.employer if mine else "")
        or (member.employer if member else "")
    )
    if not trust.strip():
        raise Refusal('Tell me your trust, so I introduce you to someone from another: `coffee on trust="Leeds '
                      'Teaching Hospitals NHS Trust"`.')  # fmt: skip
    region = (member.region if member else "") or (mine.region if mine else "")
    if mine is None:
        mine = ctx.uow.records(CoffeeOptIn).add(CoffeeOptIn(user.platform, user.workspace, user.user_id))
    mine.every_weeks, mine.regions, mine.employer, mine.region = (
        int(every_text),
        regions,
        trust.strip()[:120],
        region,
    )
    mine.active, mine.next_at = True, ctx.now
    where = ", ".join(v.REGIONS[r] for r in regions) or "any region"
    return Message.simple(f"You're signed up for coffee: every {mine.every_weeks} weeks I'll introduce you to someone "
                          f"from another trust in {escape(where)}. `coffee off` stops them at any time.")  # fmt: skip


def _suits(a: CoffeeOptIn, b: CoffeeOptIn) -> bool:
    if a.employer.strip().lower() == b.employer.strip().lower():
        return False
    return (not a.regions or b.region in a.regions) and (not b.regions or a.region in b.regions)


def introduce(ctx: Ctx) -> int:
    """Introduce everyone who is due, in pairs across trusts, never twice; a periodic job."""
    made = 0
    due = sorted((o for o in ctx.uow.records(CoffeeOptIn).where(active=True) if o.next_at and o.next_at <= ctx.now),
                 key=lambda o: (o.platform, o.workspace, o.next_at, o.id))  # fmt: skip
    taken: set[int] = set()
    for a in due:
        if a.id in taken:
            continue
        met_before = {frozenset((i.first, i.second)) for i in ctx.uow.records(CoffeeIntro).where(
            platform=a.platform, workspace=a.workspace)}  # fmt: skip
        partner = next((b for b in due if b.id not in taken and b.id != a.id and (b.platform, b.workspace) ==
                        (a.platform, a.workspace) and _suits(a, b) and frozenset((a.user_id, b.user_id)) not in met_before),
                       None)  # fmt: skip
        if partner is None:
            continue
        taken |= {a.id, partner.id}
        first, second = sorted((a.user_id, partner.user_id))
        intro = ctx.uow.records(CoffeeIntro).add(CoffeeIntro(a.platform, a.workspace, first, second, ctx.now))
        text = (
            f"☕ Meet {{@{first}}} and {{@{second}}}: you're both in the network, from different trusts "
            f"({escape(a.employer)} and {escape(partner.employer)}). Find 15 minutes in the next fortnight for a "
            "virtual coffee: what does your week look like, and what would help? I'll ask in a week how it went."
        )
        together(ctx, f"coffee:{intro.id}", [a.ref, partner.ref], "Coffee", Message.simple(text))
        for o in (a, partner):
            o.next_at = ctx.now + timedelta(weeks=o.every_weeks)
        made += 1
    return made


def check_in(ctx: Ctx) -> int:
    """A week after an introduction, ask each of the two whether they met; a periodic job."""
    asked = 0
    for intro in ctx.uow.records(CoffeeIntro).where(met=""):
        if intro.made_at > ctx.now - CHECK_IN_AFTER:
            continue
        for uid, other in ((intro.first, intro.second), (intro.second, intro.first)):
            message = Message("Did you meet for coffee?", (
                Section(f"Did you and {{@{other}}} manage a coffee?"),
                Actions((Button("Yes, we met", "coffee_met", str(intro.id), style="primary"),
                         Button("Not yet", "coffee_not_yet", str(intro.id)))),
            ))  # fmt: skip
            asked += queue(ctx.uow, f"coffee-checkin:{intro.id}:{uid}", to_user(UserRef(intro.platform, intro.workspace, uid)),
                           message, ctx.now)  # fmt: skip
    return asked


@target("coffee_intro")
def _intro(ctx: Ctx, user: UserRef, value: str) -> tuple[CoffeeIntro, None]:
    """An introduction the actor was one of the two in."""
    number = id_number(value)
    intro = ctx.uow.records(CoffeeIntro).get(number) if number is not None else None
    if intro is None or (intro.platform, intro.workspace) != (user.platform, user.workspace) \
            or user.user_id not in (intro.first, intro.second):  # fmt: skip
        raise Refusal("That introduction isn't one of yours.")
    return intro, None


def met(call: Call) -> Message:
    intro: CoffeeIntro = call.target
    said = MET[call.route.name]
    if intro.met != "yes":
        intro.met = said
    if said == "yes":
        return Message.simple(
            "Lovely: thanks for letting me know. I'll introduce you to someone new next time."
        )
    return Message.simple("No problem: there's still time. A 15-minute call counts!")


def _intros(ctx: Ctx, user: UserRef) -> list[CoffeeIntro]:
    return [i for i in ctx.uow.records(CoffeeIntro).where(platform=user.platform, workspace=user.workspace)
            if user.user_id in (i.first, i.second)]  # fmt: skip


def _erase_intros(ctx: Ctx, user: UserRef) -> int:
    intros = _intros(ctx, user)
    for i in intros:
        ctx.uow.records(CoffeeIntro).delete(i)
    return len(intros)


own_rows("coffee opt-in", CoffeeOptIn, lambda ctx, o: {"active": o.active, "every_weeks": o.every_weeks,
                                                       "regions": o.regions, "trust": o.employer})  # fmt: skip
holding("coffee introductions", erase=_erase_intros, export=lambda ctx, user: [
    {"with": i.second if i.first == user.user_id else i.first, "made_at": i.made_at.isoformat(), "met": i.met}
    for i in _intros(ctx, user)])  # fmt: skip

ROUTES = (
    command("coffee [on|off] [every=N] [regions=...] [trust=...]",
            "be introduced to someone from another trust every few weeks, or stop", coffee, who=Who.ANYONE),
    *(button(action, met, who=Who.ANYONE, target="coffee_intro") for action in MET),
)  # fmt: skip
