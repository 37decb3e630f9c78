"""The hottest queries, built once with bind parameters.

Building a ``select()`` costs more than running it on SQLite (argument coercion and cache-key
generation, ~100 µs); every interaction runs several of these lookups, so they are built on first
use (after the records are mapped) and reused with new parameters.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select

from conversations.core.model import (
    Assignment,
    Cohort,
    Coordinator,
    Match,
    MatchStatus,
    Participant,
    Response,
)
from storage import tables

p, c, mm, m = tables.participants.c, tables.coordinators.c, tables.match_members.c, tables.matches.c


@cache
def participants_for_user() -> Any:
    return (
        select(Participant)
        .where(
            p.platform == bindparam("platform"),
            p.workspace == bindparam("workspace"),
            p.user_id == bindparam("user_id"),
        )  # fmt: skip
        .order_by(p.id)
    )


@cache
def participants_and_consent() -> Any:
    """A person's memberships, each row with their newest consent record of one kind (agreed,
    notice version; none when they have no record) and the buddy group the membership is active
    in (none when it is in none): the lookup, the privacy notice's gate and the group most member
    interactions ask for next, in one statement."""
    r, n = tables.consent_records.c, tables.consent_records.alias("newest").c
    newest = (
        select(func.max(n.id))
        .where(
            n.platform == p.platform,
            n.workspace == p.workspace,
            n.user_id == p.user_id,
            n.kind == bindparam("kind"),
        )  # fmt: skip
        .scalar_subquery()
    )
    group = (
        select(mm.match_id)
        .join(tables.matches, m.id == mm.match_id)
        .where(mm.participant_id == p.id, m.status == MatchStatus.ACTIVE)
        .order_by(mm.match_id)
        .limit(1)
        .scalar_subquery()
    )
    found = tables.participants.outerjoin(tables.consent_records, r.id == newest).outerjoin(
        tables.matches, m.id == group
    )
    return participants_for_user().add_columns(r.agreed, r.notice_version, Match).select_from(found)


@cache
def participant_in_cohort() -> Any:
    return participants_for_user().where(p.cohort_id == bindparam("cohort_id"))


@cache
def coordinators_of() -> Any:
    return select(Coordinator).where(c.cohort_id == bindparam("cohort_id")).order_by(c.id)


@cache
def cohorts_coordinated_by() -> Any:
    return (
        select(Cohort)
        .join(tables.coordinators, c.cohort_id == tables.cohorts.c.id)
        .where(
            c.platform == bindparam("platform"),
            c.workspace == bindparam("workspace"),
            c.user_id == bindparam("user_id"),
        )  # fmt: skip
        .order_by(tables.cohorts.c.id)
    )


@cache
def match_members() -> Any:
    return (
        select(Participant)
        .join(tables.match_members, mm.participant_id == p.id)
        .where(mm.match_id == bindparam("match_id"))
        .order_by(mm.id)
    )


@cache
def active_match_of() -> Any:
    return (
        select(Match)
        .join(tables.match_members, mm.match_id == m.id)
        .where(mm.participant_id == bindparam("participant_id"), m.status == MatchStatus.ACTIVE)
        .order_by(m.id)  # one at most; the first, as the member lookup reads it, if ever several
    )


@cache
def latest_consent() -> Any:
    """A person's newest consent record of one kind (the privacy notice's gate asks at every
    member interaction)."""
    r = tables.consent_records.c
    return (
        select(r.agreed, r.notice_version)
        .where(
            r.platform == bindparam("platform"),
            r.workspace == bindparam("workspace"),
            r.user_id == bindparam("user_id"),
            r.kind == bindparam("kind"),
        )  # fmt: skip
        .order_by(r.id.desc())
        .limit(1)
    )


@cache
def latest_assignment() -> Any:
    a = tables.assignments.c
    return select(Assignment).where(a.match_id == bindparam("match_id")).order_by(a.sequence.desc()).limit(1)


@cache
def responses_to() -> Any:
    r = tables.responses.c
    return select(Response).where(r.assignment_id == bindparam("assignment_id")).order_by(r.id)
