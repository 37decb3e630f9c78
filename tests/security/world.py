"""Cohorts to attack: the setting for the crafted-id suites (test_crafted_ids.py).

In the running app's database, for one platform: Alpha (two groups, a task each, a person who left
and one who asked to be forgotten) and Gamma (another coordinator's cohort) in the attacker's
workspace, and Beta in another workspace. It is set up through the engine of that app, as the
people would have typed it; the attack itself then goes over HTTP."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from adapters.memory.chat import Chat
from adapters.memory.messenger import MemoryMessenger
from conversations.core.routes import ButtonRoute, FormRoute, Route
from conversations.delivery.sender import Sender
from tests.engine.helpers import registration
from tests.security.live import LiveApp

# Everyone's user ids carry the platform's prefix (a Slack member id, a Teams AAD object id).
ALPHA_COORDINATOR = "CA"
MEMBER = "P1"  # in Alpha's first group
VICTIMS = ("P3", "P4", "LEFT5", "GONE6", "GC", "G1", "G2", "BC", "B1", "B2")  # all but the attackers
# Names each attacker must never be shown: Alpha's coordinator may see Alpha's people (not the erased
# one); a member of Alpha sees only their own group.
HIDDEN_FROM_COORDINATOR = ("Gina", "Gus", "Gwen", "Bea", "Bob", "Bel")
HIDDEN_FROM_MEMBER = (*HIDDEN_FROM_COORDINATOR, "Cara", "Dev", "Lena")


# How each kind of target writes its id (flows' ``@target`` resolvers): c cohort, g group, p and q
# people, a a task posted to a group; g1 and p1 are the attacking member's own group and self.
SHAPES: dict[str, tuple[str, ...]] = {
    "cohort": ("{c}",), "open_cohort": ("{c}",), "my_closed_cohort": ("{c}",), "invitation": ("{c}",),
    "group": ("{g}",), "check_in": ("{g}:yes", "{g}:help"), "person": ("{p}",),
    "group_member": ("{g}:{p}", "{g1}:{p}"), "assignment": ("{a}", "{a}:letter"), "task_rating": ("{a}:5",),
    "rated_task": ("{a}",), "cohort_task": ("{c}", "{c}:problem_page"), "digest_task": ("{c}:problem_page",),
    "digest_draft": ("{c}:1",), "groups_page": ("{c}:all:1",), "announcement": ("{c}:1",),
    "pairing": ("{c}:{p}-{q}", "{c1}:{p1}-{p}"), "waiting_pair": ("{p}:{q}", "{p1}:{p}"),
    "network_invite": ("{c}:{p}",), "held_post": ("{o}",),
}  # fmt: skip
JUNK = ("", "x", "-1", "0", "99999999", "1" * 40, "１", "1:2:3", "٣", "1e3", ":", "99999999:")


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)

    def crafted(self, kind: str, coordinator: bool) -> list[tuple[str, str]]:
        """(what it is, the value) for a route taking a ``kind`` of id: another group, another
        cohort, another workspace, a person who left, one who was erased, and junk. Alpha's other
        group belongs to Alpha's coordinator too, so for them it is offered only mixed with the
        attacking member's group (a person of one group with another group's id)."""
        i = self.ids
        own = {"c1": i["alpha"], "g1": i["alpha_g1"], "p1": i["p1"]}
        records = [
            ("other group", dict(c=i["alpha"], g=i["alpha_g2"], p=i["p3"], q=i["p4"], a=i["alpha_a2"], o=i["alpha_o"])),
            ("other cohort", dict(c=i["gamma"], g=i["gamma_g"], p=i["g1"], q=i["g2"], a=i["gamma_a"], o=i["gamma_o"])),
            ("other workspace", dict(c=i["beta"], g=i["beta_g"], p=i["b1"], q=i["b2"], a=i["beta_a"], o=i["beta_o"])),
            ("departed person", dict(c=i["alpha"], g=i["alpha_g1"], p=i["left5"], q=i["p1"], a=0, o=0)),
            ("erased person", dict(c=i["alpha"], g=i["alpha_g1"], p=i["gone6"], q=i["p1"], a=0, o=0)),
        ]  # fmt: skip
        values: list[tuple[str, str]] = []
        for label, record in records:
            for shape in SHAPES.get(kind, ()):
                if label in ("departed person", "erased person") and "{p}" not in shape:
                    continue
                if coordinator and label == "other group" and shape != "{g1}:{p}":
                    continue  # Alpha's other group is the coordinator's own: only the rematch attack
                values.append((label, shape.format(**record, **own)))
        return values + [("junk", v) for v in JUNK]


def id_routes(table_routes: tuple[Route, ...]) -> list[ButtonRoute | FormRoute]:
    """Every button and form that takes an id, from the route table."""
    return [r for r in table_routes if isinstance(r, ButtonRoute | FormRoute) and r.target]


def build(
    live: LiveApp, platform: str, workspace: str, other_workspace: str, admin: str, other_admin: str
) -> World:
    engine = live.buddy.engine
    messenger = MemoryMessenger(platform)
    sender = Sender(live.buddy.uow, {platform: messenger}, engine.clock, on_failure=engine.delivery_failed)
    here = Chat(engine, messenger, sender, workspace=workspace)
    there = Chat(engine, messenger, sender, workspace=other_workspace)

    here.person(admin, "Ada Admin")
    here.say(admin, "cohort create Alpha").expect("Created Alpha")
    here.say(admin, "cohort create Gamma").expect("Created Gamma")
    here.say(admin, f"coordinator add @{ALPHA_COORDINATOR} cohort=Alpha").expect("now coordinates")
    here.say(admin, "coordinator add @GC cohort=Gamma").expect("now coordinates")
    for user, name, role in ((MEMBER, "Asha Patel", "clinician"), ("P2", "Ben Okafor", "general_manager"),
                             ("P3", "Cara Clinician", "clinician"), ("P4", "Dev Manager", "general_manager"),
                             ("LEFT5", "Lena Left", "clinician"), ("GONE6", "Gina Gone", "clinician")):  # fmt: skip
        join(here, user, name, role, "Alpha")
    here.say("LEFT5", "leave").expect("You've left the scheme")
    here.say(admin, "match preview cohort=Alpha")
    here.say(admin, "match confirm cohort=Alpha")
    here.say(admin, "task send cohort=Alpha").expect("Posted the task to 2 groups")
    here.press("GONE6", "forget_me_confirm")
    for user, name, role in (("G1", "Gus Gamma", "clinician"), ("G2", "Gwen Gamma", "general_manager")):
        join(here, user, name, role, "Gamma")
    here.say(admin, "match preview cohort=Gamma")
    here.say(admin, "match confirm cohort=Gamma")
    here.say(admin, "task send cohort=Gamma").expect("Posted the task to 1 group")

    there.person(other_admin, "Bea Admin")
    there.say(other_admin, "cohort create Beta").expect("Created Beta")
    join(there, "B1", "Bob Beta", "clinician", "Beta")
    join(there, "B2", "Bel Beta", "general_manager", "Beta")
    there.say(other_admin, "match preview")
    there.say(other_admin, "match confirm")
    there.say(other_admin, "task send").expect("Posted the task to 1 group")
    asyncio.run(sender.drain())
    return World(_ids(live, platform))


def join(chat: Chat, user: str, name: str, role: str, cohort: str) -> None:
    chat.person(user, name, f"{user.lower()}@example.nhs.uk")
    chat.say(user, f"join {cohort}").expect("[form:")
    chat.submit(user, registration(name, role)).expect("registered")


def _ids(live: LiveApp, platform: str) -> dict[str, int]:
    db = create_engine(f"sqlite:///{live.database}")
    try:
        with db.connect() as conn:

            def one(sql: str, **params: object) -> int:
                value = conn.execute(text(sql), params).scalar()
                assert value is not None, (sql, params)
                return int(value)

            cohorts = {n: i for n, i in conn.execute(text("select name, id from cohorts")).all()}
            person = {
                u: i for u, i in conn.execute(
                    text("select user_id, id from participants where platform = :p"), {"p": platform}
                ).all()
            }  # fmt: skip
            group_of = "select match_id from match_members where participant_id = :p"
            ids = {"alpha": cohorts["Alpha"], "gamma": cohorts["Gamma"], "beta": cohorts["Beta"],
                   "p1": person[MEMBER], "p3": person["P3"], "p4": person["P4"], "g1": person["G1"],
                   "g2": person["G2"], "b1": person["B1"], "b2": person["B2"], "left5": person["LEFT5"],
                   "gone6": one("select id from participants where cohort_id = :c and status = 'left' and "
                                "user_id != 'LEFT5'", c=cohorts["Alpha"])}  # fmt: skip
            ids["alpha_g1"] = one(group_of, p=ids["p1"])
            ids["alpha_g2"] = one(group_of, p=ids["p3"])
            ids["gamma_g"] = one(group_of, p=ids["g1"])
            ids["beta_g"] = one(group_of, p=ids["b1"])
            for key, group in (("alpha_a2", "alpha_g2"), ("gamma_a", "gamma_g"), ("beta_a", "beta_g")):
                ids[key] = one("select id from assignments where match_id = :m", m=ids[group])
            for key, user in (("alpha_o", "P3"), ("gamma_o", "G1"), ("beta_o", "B1")):  # a post to each
                ids[key] = one("select max(id) from outbox where recipient like :u", u=f'%"{user}"%')
            return ids
    finally:
        db.dispose()
