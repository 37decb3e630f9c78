"""The buddy scheme's records. Plain dataclasses; :mod:`storage` maps them to tables.

They carry ids rather than object graphs, so the engine reads like the scheme and the mapping
stays flat. ``eq=False`` keeps identity semantics, which the ORM's identity map relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from conversations.core.phases import Phase
from conversations.core.refs import UserRef


class Status(StrEnum):
    REGISTERED = "registered"
    WAITING = "waiting"
    MATCHED = "matched"
    PAUSED = "paused"
    LEFT = "left"
    INVITED = "invited"  # imported from a survey; not matched until they confirm their details


class MatchStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(eq=False)
class Cohort:
    name: str
    platform: str
    workspace: str
    region: str = ""
    registration_open: bool = True
    paused: bool = False
    cadence_weekday: int = 0  # 0 = Monday
    cadence_time: str = "09:00"
    cadence_timezone: str = "Europe/London"
    cadence_every_weeks: int = 1
    nudge_pair_days: int = 4
    nudge_individual_days: int = 7
    alert_coordinator_days: int = 10
    allow_trios: bool = False  # uneven trios (two clinicians and a manager, or the reverse)
    settings: dict[str, Any] = field(default_factory=dict)  # matcher weights, eligible grades
    current_round: int = 0
    created_at: datetime | None = None
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class Coordinator:
    cohort_id: int
    platform: str
    workspace: str
    user_id: str
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class Participant:
    cohort_id: int
    platform: str
    workspace: str
    user_id: str
    display_name: str
    role: str
    email: str = ""
    specialist_area: str = ""
    profession: str = ""
    grade: str = ""
    specialty: str = ""
    employer: str = ""
    employer_type: str = ""
    region: str = ""
    interests: list[str] = field(default_factory=list)
    consent_data: bool = False  # agreed to take part and to the data use statement
    consent_share: bool = False  # learning points may be quoted, anonymised, in digests
    status: str = Status.REGISTERED
    registered_at: datetime | None = None
    last_active_at: datetime | None = None
    unreachable: bool = False
    id: int = None  # type: ignore[assignment]  # assigned by the store on add

    @property
    def ref(self) -> UserRef:
        return UserRef(self.platform, self.workspace, self.user_id)


@dataclass(eq=False)
class Match:
    cohort_id: int
    round: int
    score: float
    reasons: list[str] = field(default_factory=list)
    status: str = MatchStatus.ACTIVE
    conversation: dict[str, str] = field(default_factory=dict)  # ConversationRef fields, once opened
    created_at: datetime | None = None
    ended_at: datetime | None = None
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class MatchMember:
    match_id: int
    participant_id: int
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class MatchProposal:
    """A previewed plan, kept so that ``match confirm`` applies exactly what was shown."""

    cohort_id: int
    created_by: str
    plan: dict[str, Any]
    seed: int
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    introduced_at: datetime | None = None  # every introduction of the round queued (a staged confirm)
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class TaskDefinition:
    key: str
    title: str
    summary: str
    instructions: str
    minutes: int
    due_days: int
    phases: list[Phase]
    competencies: list[dict[str, str]]
    position: int = 0
    source: str = "builtin"
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class Assignment:
    match_id: int
    task_key: str
    sequence: int
    posted_at: datetime
    due_at: datetime
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class Response:
    assignment_id: int
    phase: str
    owner_id: int  # participant id for individual phases, 0 for a joint answer
    author_id: int  # who submitted (or last edited)
    text: str
    submitted_at: datetime
    edited_at: datetime | None = None
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class Nudge:
    assignment_id: int
    level: str  # "pair", "individual", "coordinator"
    participant_id: int  # 0 for the whole group
    sent_at: datetime
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class ProgrammeEntry:
    """Something a person told Buddy about the programme around the tasks: whether their group
    met (``met``), how useful a task was (``rating``, ``comment``), an end-of-programme
    evaluation answer (``evaluation``)."""

    cohort_id: int
    participant_id: int
    kind: str  # "met", "rating", "comment", "evaluation"
    subject: int  # the group (met), the assignment (rating, comment); 0 for the evaluation
    key: str  # what was asked: "met", "rating", "comment" or an evaluation question's key
    value: str
    at: datetime
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class AuditEntry:
    cohort_id: int | None
    actor: str
    action: str
    detail: dict[str, Any]
    at: datetime
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class OutboxItem:
    """A message to send, written in the same transaction as the change that caused it."""

    key: str  # unique: what, to whom, for which assignment
    recipient: dict[str, Any]  # {"kind": "user"|"group"|"conversation", ...}
    message: dict[str, Any]
    created_at: datetime
    status: str = "pending"  # pending, sending, sent, failed, unknown; staged: unsent until released
    attempts: int = 0
    not_before: datetime | None = None
    sent_at: datetime | None = None
    error: str = ""
    result: dict[str, str] = field(default_factory=dict)  # where it landed
    match_id: int | None = None  # an introduction records the group conversation on its match
    claimed_at: datetime | None = None  # when a sender took it: a lease that recovery respects
    claimed_by: str = ""  # which sender took it
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


PARTICIPATION, QUOTES = "participation", "quotes"  # the kinds of consent a person gives


@dataclass(eq=False)
class ConsentRecord:
    """What a person agreed to (or withdrew), against which version of the privacy notice, and when.
    Records are added, never changed: the latest of each ``kind`` is what holds now."""

    platform: str
    workspace: str
    user_id: str
    cohort_id: int | None
    kind: str  # "participation" (take part, data used to run the scheme) or "quotes" (digests)
    agreed: bool
    notice_version: str
    wording: str  # the words they agreed to, as shown
    at: datetime
    source: str = "form"  # form, command, survey import
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class InboxMessage:
    """A buddy's message to their coordinators (typed to Buddy in their 1:1 chat), or a
    coordinator's reply: a thread is its first message and the replies that name it."""

    cohort_id: int
    participant_id: int  # the buddy the thread is with
    text: str
    sent_at: datetime
    author: str = ""  # "" for the buddy; the coordinator's UserRef key for a reply
    thread_id: int | None = None  # None on the first message of a thread
    resolved_at: datetime | None = None  # on the first message: when a coordinator resolved it
    reminded_at: datetime | None = None  # on the first message: when coordinators were last reminded
    id: int = None  # type: ignore[assignment]  # assigned by the store on add


@dataclass(eq=False)
class ImportBatch:
    """A survey export on its way in: mapped, its people looked up by email, previewed to the
    coordinator, then imported (all or nothing) or cancelled. The file itself is kept only until
    its columns are mapped."""

    cohort_id: int
    platform: str  # the coordinator who started it, who is told when the preview is ready
    workspace: str
    user_id: str  # "" for an operator's import at the command line
    filename: str
    status: str = "mapping"  # mapping, checking (emails being looked up), ready, importing, imported, cancelled, expired
    text: str = ""
    mapping: dict[str, str] = field(default_factory=dict)  # Buddy's field -> the question's heading
    checks: list[dict[str, Any]] = field(
        default_factory=list
    )  # values to check: line, column, value, suggestion
    created_at: datetime | None = None
    finished_at: datetime | None = None
    id: int = None  # type: ignore[assignment]  # assigned by the store on add

    @property
    def coordinator(self) -> UserRef:
        return UserRef(self.platform, self.workspace, self.user_id)


@dataclass(eq=False)
class ImportRow:
    """One person in an :class:`ImportBatch`: their answers, normalised, and whether the platform
    knows their work email."""

    batch_id: int
    line: int
    email: str
    profile: dict[str, Any]  # the answers as Buddy's fields (vocabulary keys), ready to validate
    state: str = "pending"  # pending (to look up), found, not_found
    user_id: str = ""
    reason: str = ""  # why not found
    id: int = None  # type: ignore[assignment]  # assigned by the store on add
