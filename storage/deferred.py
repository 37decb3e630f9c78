"""Writing a group commit's changes together, at its commit, where no read needs them sooner.

The engine's group commit runs several interactions in one unit of work, each starting fresh
(:meth:`SqlUnitOfWork.fresh`). Writing each one's changes at that point cost a flush apiece, the
largest part of a click's own work. Now:

- ``fresh`` writes what is pending and forgets every record only after a statement that changed
  rows directly (a bulk update leaves records in memory stale). Otherwise pending changes stay
  pending: the next read that needs them writes them first (the session's autoflush), and the
  commit writes the rest together.
- The member lookup, the first read of nearly every interaction, reads past pending changes when
  they cannot alter its answer (:func:`lookup_reads_past`): only memberships changed in memory, none
  of them in who they are (platform, workspace, user, cohort). It finds memberships by who they are,
  and a membership already in memory comes back as it is in memory, pending changes and all.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from conversations.core.model import Participant
from storage import known_groups

WROTE = "buddy.wrote_directly"  # in ``Session.info``: a statement changed rows since the last fresh start
IDENTITY = frozenset({"id", "cohort_id", "platform", "workspace", "user_id"})


def watch(sessions: sessionmaker[Session]) -> None:
    event.listen(sessions, "do_orm_execute", _on_execute)


def wrote_directly(session: Session) -> bool:
    return bool(session.info.get(WROTE))


def started_fresh(session: Session) -> None:
    session.info.pop(WROTE, None)


def lookup_reads_past(session: Session) -> bool:
    """Whether the member lookup may skip writing what is pending: nothing new or deleted, and every
    changed record a membership whose identity is as written."""
    if session.new or session.deleted:
        return False
    for record in session.dirty:
        if not isinstance(record, Participant):
            return False
        if len(inspect(record).unmodified_intersection(IDENTITY)) < len(IDENTITY):
            return False
    return True


def _on_execute(state: ORMExecuteState) -> None:
    if not state.is_select:  # DML, text(), anything that might write
        state.session.info[WROTE] = True
        known_groups.forget(state.session)


def lookup(session: Session, statement: Any, params: dict[str, Any]) -> Any:
    """Run the member lookup, reading past pending changes where :func:`lookup_reads_past` allows."""
    with session.no_autoflush if lookup_reads_past(session) else nullcontext():
        return session.execute(statement, params).all()
