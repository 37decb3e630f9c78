"""The route table: checked at start-up, the one lookup for ids from outside, help that cannot
drift, and answers to words Buddy doesn't know."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, text

from adapters.memory.chat import Chat
from adapters.teams.package import ALL_COMMANDS, manifest
from conversations.catalogue import routes, table
from conversations.core.interactions import ButtonPressed, FormSubmitted
from conversations.core.routes import (
    ButtonRoute,
    CommandRoute,
    FormRoute,
    RouteError,
    RouteTable,
    Unknown,
    Who,
    button,
    command,
    form,
)
from conversations.engine import check_admins
from tests.conftest import make_chat
from tests.engine.helpers import ADMIN, COHORT, cohort, matched_pair, register

ROOT = Path(__file__).resolve().parents[2]
BEA = "UBEA"  # Beta's administrator, in workspace T2


def _handler(call: object) -> None:
    return None


# ---- start-up ------------------------------------------------------------------------------------


def test_the_shipped_table_is_consistent():
    built = table()
    assert built.commands and built.buttons and built.forms


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (
            command("match preview", "again", _handler, who=Who.COORDINATOR),
            "duplicate command “match preview”",
        ),
        (button("respond", _handler), "duplicate action id “respond”"),
        (form("register", _handler), "duplicate form id “register”"),
        (command("frobnicate", "no handler", None), "CommandRoute “frobnicate” has no handler"),  # type: ignore[arg-type]
    ],
)
def test_a_duplicate_or_a_route_without_a_handler_stops_start_up_with_the_names(extra, named):
    with pytest.raises(RouteError, match=re.escape(named)):
        RouteTable([*routes(), extra])


def test_an_id_nothing_resolves_stops_start_up(monkeypatch):
    from conversations import catalogue
    from conversations.flows import overview

    monkeypatch.setattr(
        overview, "ROUTES", (*overview.ROUTES, button("x_button", _handler, target="nonsense"))
    )
    with pytest.raises(RouteError, match="button “x_button” takes a “nonsense”"):
        catalogue.table()


def test_bare_admin_ids_stop_start_up_with_what_to_write():
    with pytest.raises(ValueError, match="like T0123:U0456.*these have none: U0456"):
        check_admins(["T1:U1", "U0456"])


# ---- ids from outside: every route that takes one refuses a crafted id ----------------------------


def _two_workspaces(db: Engine, clock) -> tuple[Chat, Chat]:  # type: ignore[no-untyped-def]
    """Alpha in workspace T1 (the usual chat) and Beta in T2, sharing one database and engine."""
    alpha = make_chat(db, clock, admins=("T1:UADMIN", f"T2:{BEA}"))
    matched_pair(alpha)
    beta = Chat(alpha.engine, alpha.messenger, alpha.sender, workspace="T2")
    beta.person(BEA, "Bea Admin")
    beta.say(BEA, "cohort create Beta").expect("Created Beta")
    register(beta, "U3", "Cara Clinician")
    register(beta, "U4", "Dev Manager", "general_manager")
    beta.say(BEA, "match preview")
    beta.say(BEA, "match confirm")
    beta.say(BEA, "task send").expect("Posted the task to 1 group")
    beta.say(BEA, "event add").expect("[form: Add an event]")
    beta.submit(
        BEA,
        {
            "title": "Beta social",
            "date": "2026-09-10",
            "start": "18:00",
            "end": "20:00",
            "timezone": "Europe/London",
            "place": "Leeds",
        },
    ).expect("Added event 1")
    beta.say("U3", "coffee on trust=Leeds").expect("signed up")
    return alpha, beta


def _ids(db: Engine) -> dict[str, int]:
    with db.connect() as conn:
        cohorts = dict(conn.execute(text("select name, id from cohorts")).all())  # type: ignore[arg-type]
        beta_match = conn.execute(
            text("select id from matches where cohort_id = :c"), {"c": cohorts["Beta"]}
        ).scalar()
        beta_person = conn.execute(
            text("select id from participants where cohort_id = :c order by id"), {"c": cohorts["Beta"]}
        ).scalar()
        beta_assignment = conn.execute(
            text("select id from assignments where match_id = :m"), {"m": beta_match}
        ).scalar()
        beta_outbox = conn.execute(text("select max(id) from outbox")).scalar()
        beta_event = conn.execute(text("select max(id) from network_events")).scalar()
    return {"beta": cohorts["Beta"], "alpha": cohorts[COHORT], "beta_match": beta_match,
            "beta_person": beta_person, "beta_assignment": beta_assignment, "outbox": beta_outbox,
            "beta_event": beta_event}  # fmt: skip


def _snapshot(db: Engine) -> dict[str, list[tuple]]:
    tables = (
        "participants",
        "matches",
        "match_members",
        "assignments",
        "responses",
        "cohorts",
        "coordinators",
        "network_rsvps",
        "network_events",
        "coffee_intros",
        "expert_requests",
    )
    with db.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"select * from {t}")).all())) for t in tables}  # noqa: S608


def _crafted(kind: str, ids: dict[str, int]) -> list[str]:
    """Values naming records of the other workspace, records that do not exist, and junk."""
    junk = ["", "x", "-1", "99999999", "1" * 40, "１", "1:2:3"]
    return {
        "cohort": [str(ids["beta"])],
        "open_cohort": [str(ids["beta"])],
        "proposal": ["1", "2", "3"],
        "group_member": [
            f"{ids['beta_match']}:{ids['beta_person']}",
            f"1:{ids['beta_person']}",
            f"{ids['beta_match']}:1",
        ],  # fmt: skip
        "assignment": [str(ids["beta_assignment"]), f"{ids['beta_assignment']}:letter"],
        "held_post": [str(ids["outbox"])],
        "event": [str(ids["beta_event"])],
        "coffee_intro": ["1"],
        "expert_request": ["1"],
        "group": [str(ids["beta_match"])],
        "person": [str(ids["beta_person"])],
        "cohort_task": [f"{ids['beta']}:problem_page"],
        "digest_task": [f"{ids['beta']}:problem_page"],
        "my_closed_cohort": [str(ids["beta"])],
    }.get(kind, []) + junk  # the other kinds: junk and ids that name nothing


def test_every_route_that_takes_an_id_refuses_one_from_another_workspace_or_that_is_junk(db, clock):
    alpha, _ = _two_workspaces(db, clock)
    ids = _ids(db)
    before = _snapshot(db)
    checked = set()
    for route in table().routes:
        if not isinstance(route, ButtonRoute | FormRoute) or not route.target:
            continue
        checked.add(route.target)
        for value in _crafted(route.target, ids):
            for who in (ADMIN, "U1"):  # Alpha's coordinator, and a member of Alpha
                actor = alpha.actor(who)
                if isinstance(route, ButtonRoute):
                    outcome = alpha.engine.handle(ButtonPressed(actor, route.action_id, value))
                    shown = str(getattr(outcome, "message", ""))
                else:
                    outcome = alpha.engine.handle(FormSubmitted(actor, route.form_id, value, {}))
                    shown = str(getattr(outcome, "errors", ""))
                assert "Beta" not in shown and "Cara" not in shown and "Dev" not in shown, (
                    route,
                    value,
                    shown,
                )
                assert type(outcome).__name__ in {"Reply", "FormErrors"}, (route, value, outcome)
    alpha.deliver()
    assert _snapshot(db) == before
    assert checked >= {
        "cohort",
        "open_cohort",
        "proposal",
        "group_member",
        "assignment",
        "held_post",
        "event",
        "coffee_intro",
        "expert_request",
    }
    assert not [line for line in alpha.transcript("U3").splitlines() if "paused" in line]


def test_the_rematch_button_cannot_reach_a_person_outside_the_group(db, clock):
    """The report: Alpha's coordinator pressed rematch with an Alpha group and a Beta person."""
    alpha, beta = _two_workspaces(db, clock)
    ids = _ids(db)
    with db.connect() as conn:
        alpha_match = conn.execute(
            text("select id from matches where cohort_id = :c"), {"c": ids["alpha"]}
        ).scalar()
    alpha.press(ADMIN, "rematch", f"{alpha_match}:{ids['beta_person']}").expect("no longer in that group")
    assert "paused" not in beta.transcript("U3")


def test_cohort_names_and_admins_of_another_workspace_are_invisible(db, clock):
    alpha, beta = _two_workspaces(db, clock)
    alpha.say(ADMIN, "export cohort=Beta").expect("There is no cohort called “Beta”")
    alpha.say(ADMIN, "cohort list").expect(COHORT).expect_not("Beta")
    beta.say(BEA, "cohort list").expect("Beta").expect_not(COHORT)
    # an admin of T1 only: the same user id in T2 is somebody else
    stranger = Chat(alpha.engine, alpha.messenger, alpha.sender, workspace="T2")
    stranger.say(ADMIN, "export cohort=Beta").expect("only the coordinators of Beta")
    stranger.say(ADMIN, "cohort create Gamma").expect("only Buddy's administrators")


def test_mentions_resolve_only_inside_the_cohort(db, clock):
    alpha, _ = _two_workspaces(db, clock)
    alpha.say(ADMIN, "match exclude @U1 @U3").expect("@U3 isn't registered in Test Cohort")


# ---- help that cannot drift ------------------------------------------------------------------------


def _table_after(readme: str, heading: str) -> list[str]:
    """The commands in the first column of the first table after ``heading``."""
    section = readme.split(heading, 1)[1]
    table_rows = section[section.index("| command |") :].split("\n\n", 1)[0].splitlines()[2:]
    cells = [re.split(r"(?<!\\)\|", row)[1] for row in table_rows]
    return [u.replace("\\|", "|") for cell in cells for u in re.findall(r"`([^`]+)`", cell)]


def test_readme_command_tables_match_the_route_table():
    readme = (ROOT / "README.md").read_text()
    commands = table().command_routes()
    coordinators = {r.usage for r in commands if r.who in (Who.COORDINATOR, Who.ADMIN)}
    buddies = {r.usage for r in commands if r.who in (Who.ANYONE, Who.MEMBER)}
    assert set(_table_after(readme, "## For coordinators")) == coordinators
    assert set(_table_after(readme, "## For buddies")) == buddies


def test_slack_usage_hint_and_teams_menu_name_real_commands():
    built = table()
    hint = yaml.safe_load((ROOT / "manifest.yml").read_text())["features"]["slash_commands"][0]["usage_hint"]
    for words in [h.strip() for h in hint.split("|")] + list(ALL_COMMANDS):
        assert isinstance(built.parse(words), CommandRoute | type(built.parse("help"))), words
        assert not isinstance(built.parse(words), Unknown), words
    menu = manifest("00000000-0000-0000-0000-000000000000")["bots"][0]["commandLists"]
    described = {c["title"]: c["description"] for lst in menu for c in lst["commands"]}
    assert described["match preview"] == "Coordinators: propose groups and show why"
    assert described["help"] == "Show what I can do"


def test_help_is_per_audience(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    chat.say("U1", "help").expect("`join [cohort]`", "`rematch`").expect_not(
        "`match preview`", "`cohort create"
    )
    chat.say(ADMIN, "help").expect(
        "For coordinators", "`match preview`", "`cadence unskip`", "`cohort create"
    )


# ---- words Buddy doesn't know -----------------------------------------------------------------------


def test_a_near_miss_gets_did_you_mean_with_only_what_they_may_run(chat):
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    said = chat.say("U1", "stauts").expect("I don't know the command “stauts”", "Did you mean", "`status`")
    assert said.seen[-1].count("\n") < 5  # brief, not a wall of help
    chat.say("U1", "mach preview").expect("I don't know").expect_not("match preview")
    chat.say(ADMIN, "mach preview").expect("Did you mean", "`match preview`")


def test_a_sentence_gets_how_to_reach_the_coordinator(chat):
    matched_pair(chat)
    chat.say("U1", "Hi, my buddy hasn't replied").expect_not("What I can do", "I don't know the command")
    assert "my buddy hasn't replied" in chat.transcript(ADMIN)  # it reached the coordinators' inbox
    chat.person("U8", "Nadia New")
    chat.say("U8", "hello there, how do I sign up?").expect("`join`")
