"""Each participant's active buddy group, as this unit of work last read it.

Most member interactions ask for the actor's group right after looking the actor up (to pause,
show a task, reply to a letter), often more than once. The member lookup reads the group in the
same statement (:func:`storage.statements.participants_and_consent`) and notes it here; until the
unit of work writes anything, :meth:`SqlMatches.active_for` answers from the note instead of
asking the database again.

A note is only as good as the database it was read from, so every write forgets them all: a
flush, an ``INSERT``/``UPDATE``/``DELETE`` statement run through the session, a commit, a
rollback, the next interaction of a group commit. A group or membership changed in memory and
not yet written (new, changed or deleted) makes :func:`known` answer :data:`UNKNOWN`, so the
caller asks the database, which writes it first.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from conversations.core.model import Match, MatchMember

KEY = "buddy.active_groups"  # in ``Session.info``: participant id -> their active group, or None
UNKNOWN = object()  # what :func:`known` answers when the database must be asked


def note(session: Session, participant_id: int, group: Match | None) -> None:
    session.info.setdefault(KEY, {})[participant_id] = group


def known(session: Session, participant_id: int) -> Any:
    """The noted group (None: noted as having none), or :data:`UNKNOWN` when it must be read."""
    groups = session.info.get(KEY)
    if not groups or participant_id not in groups or _groups_pending(session):
        return UNKNOWN
    return groups[participant_id]


def forget(session: Session, *_: Any) -> None:
    session.info.pop(KEY, None)


def watch(sessions: sessionmaker[Session]) -> None:
    """Forget the notes whenever a session of ``sessions`` flushes or ends its transaction (a
    statement that writes directly is seen by :mod:`storage.deferred`, which forgets them too)."""
    event.listen(sessions, "after_flush", forget)
    event.listen(sessions, "after_commit", forget)
    event.listen(sessions, "after_rollback", forget)


def _groups_pending(session: Session) -> bool:
    return any(isinstance(o, Match | MatchMember) for o in chain(session.new, session.dirty, session.deleted))
