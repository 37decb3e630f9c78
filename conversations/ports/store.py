"""The store port: repositories behind a unit of work. :mod:`storage` implements it.

Records are the dataclasses of :mod:`conversations.core.model`; changing an attribute of a record
loaded through a unit of work is saved by ``commit()``. Replace list and dict attributes rather
than mutating them in place.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol, Self, TypeVar

from conversations.core.model import (
    Assignment,
    AuditEntry,
    Cohort,
    ConsentRecord,
    Coordinator,
    ImportBatch,
    ImportRow,
    InboxMessage,
    Match,
    MatchMember,
    MatchProposal,
    Nudge,
    OutboxItem,
    Participant,
    ProgrammeEntry,
    Response,
    TaskDefinition,
)
from conversations.core.refs import UserRef


@dataclass(frozen=True)
class Said:
    """One answer to a group's current task, as figures need it (no text)."""

    phase: str
    owner_id: int  # 0: the group's joint answer
    author_id: int
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A participant as listings and exports read one: plain values, read without building a
    record (a fifth of the cost at 20,000 people), and nothing to save."""

    id: int
    user_id: str
    display_name: str
    email: str
    role: str
    grade: str
    specialty: str
    employer: str
    employer_type: str
    region: str
    status: str
    consent_data: bool


class LastConsent(NamedTuple):
    """What a person's newest consent record of one kind says (the privacy notice's gate reads it
    at every member interaction: plain values, no record built)."""

    agreed: bool
    notice_version: str


class Posted(NamedTuple):
    """A task posted to a group, as exports need it (plain values)."""

    id: int  # the assignment's
    match_id: int
    task_key: str


class Answer(NamedTuple):
    """An answer as exports read it (plain values)."""

    assignment_id: int
    phase: str
    owner_id: int  # 0: the group's joint answer
    author_id: int
    submitted_at: datetime
    text: str


@dataclass
class GroupActivity:
    """An active group as listings and figures need it: read as plain rows, a few queries for a
    whole cohort."""

    match_id: int
    created_at: datetime
    round: int = 0
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)  # why the matcher put them together
    members: list[tuple[int, str, datetime | None]] = field(default_factory=list)  # id, status, last active
    assignment_id: int | None = None  # the current task: the latest posted
    task_key: str = ""
    posted_at: datetime | None = None
    said: list[Said] = field(default_factory=list)


class Cohorts(Protocol):
    def add(self, cohort: Cohort) -> Cohort: ...
    def get(self, cohort_id: int) -> Cohort | None: ...
    def by_name(self, name: str) -> Cohort | None: ...
    def all(self) -> list[Cohort]: ...
    def coordinators(self, cohort_id: int) -> list[Coordinator]: ...
    def add_coordinator(self, coordinator: Coordinator) -> None: ...
    def delete_coordinator(self, coordinator: Coordinator) -> None: ...
    def activity_times(self, cohort_id: int, since: datetime) -> dict[str, list[datetime]]:
        """When things happened in the cohort since ``since``, for charts (no records loaded):
        ``registered``, ``matched`` (groups formed), ``answered``, ``nudged`` (silent groups nudged)."""
        ...

    def coordinated_by(self, user: UserRef) -> list[Cohort]: ...
    def advance_round(self, cohort_id: int, expected: int) -> bool:
        """Move the cohort from round ``expected`` to the next; False if it is not at ``expected``."""
        ...

    def remove_coordinator(self, cohort_id: int, user: UserRef) -> int: ...


class Participants(Protocol):
    def add(self, participant: Participant) -> Participant: ...
    def add_many(self, participants: Sequence[Participant]) -> None:
        """Add several at once (a survey import); each gets its id."""
        ...

    def get(self, participant_id: int) -> Participant | None: ...
    def find(self, cohort_id: int, user: UserRef) -> Participant | None: ...
    def for_user(self, user: UserRef) -> list[Participant]: ...
    def for_user_and_consent(self, user: UserRef, kind: str) -> tuple[list[Participant], LastConsent | None]:
        """``for_user``, and what their newest consent record of ``kind`` says, in one lookup."""
        ...

    def in_cohort(self, cohort_id: int, statuses: Iterable[str] | None = None) -> list[Participant]: ...
    def many(self, ids: Iterable[int]) -> list[Participant]: ...
    def listing(self, cohort_id: int, ids: Collection[int] | None = None) -> list[PersonRow]:
        """The cohort's people as plain rows, in registration order (those of ``ids``, when given, in
        no particular order)."""
        ...

    def status_counts(self, cohort_id: int) -> dict[str, int]: ...
    def count_with_status(self, ids: Collection[int], statuses: Collection[str]) -> int:
        """How many of ``ids`` have one of ``statuses`` (without loading them)."""
        ...

    def set_status(self, ids: Collection[int], status: str, only_from: Collection[str]) -> int:
        """Set ``status`` on those of ``ids`` whose status is in ``only_from``; how many."""
        ...


class Matches(Protocol):
    def add(self, match: Match, member_ids: Sequence[int]) -> Match: ...
    def get(self, match_id: int) -> Match | None: ...
    def members(self, match_id: int) -> list[Participant]: ...
    def member_rows(self, match_ids: Iterable[int]) -> list[MatchMember]: ...
    def active_for(self, participant_id: int) -> Match | None: ...
    def of_participant(self, participant_id: int) -> list[Match]:
        """Every group the person has been in, active or ended, oldest first."""
        ...

    def active_in(self, cohort_id: int, ids: Collection[int] | None = None) -> list[Match]:
        """Active groups in the cohort, by id; only those in ``ids`` when given."""
        ...

    def active_ids(self, cohort_id: int) -> list[int]: ...
    def activity(
        self, cohort_id: int, before: datetime, ids: Collection[int] | None = None
    ) -> list[GroupActivity]:
        """Each active group (of ``ids`` when given), by id: its members and its current task (the
        latest assignment posted before ``before``) with that task's answers."""
        ...

    def count_active(self, cohort_id: int) -> int: ...
    def past_pairs(self, users: Iterable[UserRef]) -> set[frozenset[str]]:
        """Every pair of identity keys (``UserRef.key``) that have ever shared a group."""
        ...

    def add_proposal(self, proposal: MatchProposal) -> MatchProposal: ...
    def open_proposal(self, cohort_id: int) -> MatchProposal | None: ...
    def proposals(self, cohort_id: int | None = None) -> list[MatchProposal]:
        """Every kept proposal (of one cohort when given), oldest first."""
        ...

    def ended_before(self, before: datetime) -> list[Match]:
        """Groups that ended before ``before``."""
        ...

    def groups_of(self, participant_id: int) -> list[Match]:
        """Every group the participant was ever in, active or ended."""
        ...

    # a big round is confirmed in steps (conversations.flows.confirming): staged groups are invisible
    # to every other query until one short transaction reveals them all
    def stage(
        self,
        cohort_id: int,
        round: int,
        token: str,
        groups: Sequence[tuple[float, list[str], Sequence[int]]],
        now: datetime,
    ) -> None:
        """Add ``groups`` (score, reasons, member ids) as ``staged`` under ``token``."""
        ...

    def discard_staged(self, cohort_id: int, limit: int) -> int:
        """Remove up to ``limit`` staged groups of the cohort (an attempt that never finished)."""
        ...

    def reveal(self, token: str, member_statuses: Collection[str], status: str) -> tuple[int, int]:
        """Make the groups staged under ``token`` active, and their members ``status`` where their
        status is one of ``member_statuses``: (groups, people) changed."""
        ...

    def revealed(self, token_prefix: str, after_id: int, limit: int) -> list[Match]:
        """Active groups revealed under a token starting with ``token_prefix``, by id, after ``after_id``."""
        ...

    def unintroduced(self) -> list[MatchProposal]:
        """Confirmed proposals whose introductions are not all queued yet."""
        ...

    def confirm_proposal(self, cohort_id: int, proposal_id: int, now: datetime) -> bool:
        """Mark the proposal confirmed if it is still the cohort's open preview (no newer one,
        not confirmed yet); False otherwise. One short statement: the plan is not loaded."""
        ...

    def mark_introduced(self, proposal_id: int, now: datetime) -> bool:
        """Every introduction of this confirmed proposal is queued (one short statement: the
        plan is not loaded); False when it was already marked."""
        ...


class Tasks(Protocol):
    def get(self, key: str) -> TaskDefinition | None: ...
    def all(self) -> list[TaskDefinition]: ...
    def upsert(self, definitions: Sequence[TaskDefinition]) -> None:
        """Add new tasks and update those with the same key; others stay."""
        ...


class Assignments(Protocol):
    def add(self, assignment: Assignment) -> Assignment: ...
    def get(self, assignment_id: int) -> Assignment | None: ...
    def for_match(self, match_id: int) -> list[Assignment]: ...
    def for_matches(self, match_ids: Iterable[int]) -> list[Assignment]: ...
    def latest(self, match_id: int) -> Assignment | None: ...
    def posted_counts(self, cohort_id: int) -> dict[int, int]:
        """Tasks posted to each active group of the cohort, by group id."""
        ...

    def posted(self, cohort_id: int) -> list[Posted]:
        """Every task posted to the cohort's active groups, by group, in the order posted."""
        ...

    def open_since(
        self, cohort_id: int, before: datetime, match_ids: Collection[int] | None = None
    ) -> list[Assignment]:
        """The latest assignment of each active group (of those in ``match_ids`` when given),
        posted before ``before``."""
        ...


class Responses(Protocol):
    def add(self, response: Response) -> Response: ...
    def find(self, assignment_id: int, phase: str, owner_id: int) -> Response | None: ...
    def for_assignment(self, assignment_id: int) -> list[Response]: ...
    def for_assignments(self, assignment_ids: Iterable[int]) -> list[Response]: ...
    def for_cohort(self, cohort_id: int) -> list[Response]: ...
    def counts_by_author(self, cohort_id: int) -> dict[int, int]:
        """Answers each person has written in the cohort's active groups, by participant id."""
        ...

    def answers_in(self, cohort_id: int) -> list[Answer]:
        """Every answer written in the cohort's active groups, in the order written."""
        ...


class Nudges(Protocol):
    def add(self, nudge: Nudge) -> Nudge: ...
    def for_assignment(self, assignment_id: int) -> list[Nudge]: ...
    def for_assignments(self, assignment_ids: Iterable[int]) -> list[Nudge]: ...


class Entries(Protocol):
    """Check-ins, task ratings and evaluation answers (:class:`ProgrammeEntry`)."""

    def add(self, entry: ProgrammeEntry) -> ProgrammeEntry: ...
    def find(self, kind: str, subject: int, participant_id: int, key: str) -> ProgrammeEntry | None: ...
    def for_cohort(self, cohort_id: int, kind: str | None = None) -> list[ProgrammeEntry]: ...
    def for_participants(self, participant_ids: Iterable[int]) -> list[ProgrammeEntry]: ...
    def remove(self, entry: ProgrammeEntry) -> None: ...


class Audit(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def for_cohort(self, cohort_id: int) -> list[AuditEntry]: ...
    def all(self, limit: int | None = None) -> list[AuditEntry]:
        """Every entry, oldest first (the newest ``limit`` when given)."""
        ...

    def delete_before(self, before: datetime, limit: int) -> int:
        """Remove up to ``limit`` entries older than ``before``; how many went."""
        ...


class Consents(Protocol):
    def add(self, record: ConsentRecord) -> ConsentRecord: ...
    def for_user(self, user: UserRef) -> list[ConsentRecord]:
        """Oldest first."""
        ...

    def latest(self, user: UserRef, kind: str) -> LastConsent | None:
        """What their newest record of ``kind`` says."""
        ...

    def delete_for(self, user: UserRef) -> int: ...


SCRUBBED = {"text": "[content removed: older than the retention period]", "blocks": []}


class Outbox(Protocol):
    queued: int  # items this unit of work added (the sender is woken only when there are some)

    def add(self, item: OutboxItem) -> bool:
        """Queue unless an item with the same key exists; True if queued."""
        ...

    def add_many(self, items: Sequence[OutboxItem]) -> int:
        """Queue each unless an item with its key exists (one statement for them all); how many."""
        ...

    def get(self, item_id: int) -> OutboxItem | None: ...
    def requeue(self, item: OutboxItem, now: datetime) -> None:
        """Send ``item`` again from ``now`` as if newly queued (it counts in ``queued``)."""
        ...

    def scrub_sent(self, before: datetime, limit: int) -> int:
        """Replace the content of up to ``limit`` messages sent before ``before`` with
        ``SCRUBBED`` (the key and status stay, so nothing is sent twice); how many were scrubbed."""
        ...

    def claim(self, now: datetime, limit: int, owner: str = "") -> list[OutboxItem]:
        """Mark up to ``limit`` due pending items as sending under ``owner`` at ``now`` and return
        them (skip-locked where the database supports it, so several senders never take the same row)."""
        ...

    def release(self, owner: str, keep: Collection[int] = ()) -> int:
        """Return ``owner``'s ``sending`` rows (except ``keep``) to ``pending``, attempt not counted."""
        ...

    def claim_stale(self, now: datetime, stale_before: datetime, limit: int, owner: str) -> list[OutboxItem]:
        """Take rows to check: ``sending``/``checking`` ones whose claim is older than ``stale_before``
        (their sender died) or has no owner, and due ``unknown`` ones; they become ``checking``."""
        ...

    def next_due(self, now: datetime) -> datetime | None:
        """When the next pending item becomes due (``now`` if one is due already; None if none)."""
        ...

    def renew(self, owner: str, now: datetime) -> int:
        """The heartbeat: ``owner``'s ``sending``/``checking`` claims are still alive as of ``now``
        (so their lease can be short); how many."""
        ...

    def count(self, status: str) -> int: ...
    def count_stuck(self, claimed_before: datetime) -> int:
        """Rows still ``sending`` whose claim is older than ``claimed_before`` (past the lease)."""
        ...

    def by_status(self, status: str) -> list[OutboxItem]: ...
    def unscrubbed_before(self, before: datetime, statuses: Collection[str], limit: int) -> list[OutboxItem]:
        """Up to ``limit`` rows in ``statuses`` created before ``before`` whose content is not yet
        ``SCRUBBED`` or whose addressee is not yet removed (``"removed": true``), oldest first."""
        ...

    def keyed(self, prefix: str, statuses: Collection[str]) -> list[OutboxItem]:
        """Rows in ``statuses`` whose key starts with ``prefix``."""
        ...


R = TypeVar("R")


class Records(Protocol[R]):
    """Plain records of one kind (the network's): add, fetch by id, filter by equal columns, delete."""

    def add(self, record: R) -> R: ...
    def get(self, record_id: int) -> R | None: ...
    def where(self, **equal: object) -> list[R]: ...
    def delete(self, record: R) -> None: ...


class PaceSlots(Protocol):
    """Sending slots shared by every sender on one database (several workers on PostgreSQL).

    Each limit is a GCRA cell ``(key, interval, tolerance)``: sends at most every ``interval``
    seconds on average, ``tolerance`` seconds early at most (a burst). Times are the store's own
    clock, so workers on several hosts agree."""

    def reserve(
        self, sends: Sequence[Sequence[tuple[str, float, float]]], max_wait: float
    ) -> list[tuple[bool, float]]:
        """Atomically, for each send in turn (each a list of cells), take the earliest moment
        every cell allows: ``(True, seconds until it)``; or, when that is more than ``max_wait``
        away, take nothing for that send: ``(False, seconds)``. Seconds are from now, on the
        caller's clock."""
        ...

    def block(self, cells: Sequence[tuple[str, float, float]], seconds: float) -> None:
        """The platform said Retry-After: no cell allows a send for ``seconds``."""
        ...


class Inbox(Protocol):
    def add(self, message: InboxMessage) -> InboxMessage: ...
    def get(self, message_id: int) -> InboxMessage | None: ...
    def thread(self, thread_id: int) -> list[InboxMessage]:
        """The first message and its replies, oldest first."""
        ...

    def open_threads(self, cohort_id: int) -> list[InboxMessage]:
        """First messages not yet resolved, oldest first."""
        ...

    def for_participants(self, participant_ids: Iterable[int]) -> list[InboxMessage]: ...
    def delete(self, message: InboxMessage) -> None: ...


class Imports(Protocol):
    """Survey imports on their way in (:mod:`conversations.flows.survey_import`)."""

    def add(self, batch: ImportBatch) -> ImportBatch: ...
    def get(self, batch_id: int) -> ImportBatch | None: ...
    def checking(self) -> list[ImportBatch]:
        """Batches whose people are being looked up by email, oldest first."""
        ...

    def mapping(self, cohort_id: int) -> list[ImportBatch]:
        """Batches of the cohort still waiting for their columns to be mapped."""
        ...

    def waiting(self, started_before: datetime) -> list[ImportBatch]:
        """Batches waiting for their coordinator (a mapping, a preview, an Import cut short) started before then."""
        ...

    def add_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store rows given as :class:`ImportRow`'s fields (read back with :meth:`rows`)."""
        ...

    def rows(
        self, batch_id: int, state: str | None = None, limit: int | None = None, after_line: int = 0
    ) -> list[ImportRow]:
        """A batch's rows in file order (only those in ``state`` when given, after a line)."""
        ...

    def rows_by_id(self, batch_id: int, ids: Iterable[int]) -> list[ImportRow]: ...
    def counts(self, batch_id: int) -> dict[str, int]:
        """How many rows are in each state."""
        ...

    def drop_rows(self, batch_id: int, states: Iterable[str] | None = None) -> None: ...
    def rows_for(self, user: UserRef) -> list[ImportRow]:
        """Rows found to be this person, in imports of their workspace not yet done."""
        ...

    def stage(self, batch_id: int, people: Sequence[dict[str, Any]]) -> None:
        """Keep people to import, unseen by every other query: ``user_id``, ``email``, the profile's
        fields, and ``participant_id`` for someone already in the cohort (staged twice: kept once)."""
        ...

    def staged_count(self, batch_id: int) -> int: ...
    def discard_staged(self, batch_id: int, welcome_prefix: str, user_id: str | None = None) -> None:
        """Forget what was staged (only this person's, given ``user_id``), with the staged welcomes
        whose keys start with the prefix."""
        ...

    def reveal(
        self, batch_id: int, cohort_id: int, platform: str, workspace: str, welcome_prefix: str, now: datetime
    ) -> tuple[int, int]:
        """Everyone staged joins the cohort (or is updated) and the staged welcomes are released,
        in this one transaction; (added, updated)."""
        ...


class UnitOfWork(Protocol):
    # read-only members, so that a store's own repository types satisfy them
    @property
    def cohorts(self) -> Cohorts: ...
    @property
    def participants(self) -> Participants: ...
    @property
    def matches(self) -> Matches: ...
    @property
    def tasks(self) -> Tasks: ...
    @property
    def assignments(self) -> Assignments: ...
    @property
    def responses(self) -> Responses: ...
    @property
    def nudges(self) -> Nudges: ...
    @property
    def entries(self) -> Entries: ...
    @property
    def audit(self) -> Audit: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def consents(self) -> Consents: ...
    @property
    def inbox(self) -> Inbox: ...

    def records(self, kind: type[R]) -> Records[R]: ...
    @property
    def imports(self) -> Imports: ...
    @property
    def one_writer(self) -> bool:
        """Only one transaction at a time can write (SQLite): long jobs leave gaps for other writers."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def fresh(self) -> None:
        """Start the next of several interactions sharing one unit of work: its reads see everything
        done before it, as in a new unit of work after a commit. The store may keep changes pending
        until a read needs them, and records it knows to be current (``storage/deferred.py``)."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
