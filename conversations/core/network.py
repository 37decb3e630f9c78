"""The network's records: what exists for every member of a workspace or tenant, registered for
a buddy scheme or not. A network is its workspace (``platform``, ``workspace``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from conversations.core.refs import UserRef


@dataclass(eq=False)
class Organiser:
    """Runs the network's channels, events, coffee and experts (like a coordinator, for a cohort)."""

    platform: str
    workspace: str
    user_id: str
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class Channel:
    platform: str
    workspace: str
    name: str  # "#ops-north-west"
    description: str = ""
    url: str = ""  # a link anyone can open
    channel_id: str = ""  # the platform's id, where Buddy can add people (Slack)
    region: str = ""
    topics: list[str] = field(default_factory=list)
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class Event:
    platform: str
    workspace: str
    number: int  # the same in every view: per network, never reused
    title: str
    starts_at: datetime  # aware, UTC in the store
    ends_at: datetime
    timezone: str = "Europe/London"
    place: str = ""
    link: str = ""
    capacity: int | None = None  # None: no limit
    description: str = ""
    region: str = ""
    topics: list[str] = field(default_factory=list)
    volunteer_roles: list[str] = field(default_factory=list)
    organisers: list[str] = field(default_factory=list)  # user ids, in the workspace
    cancelled: bool = False
    created_at: datetime | None = None
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class Rsvp:
    event_id: int
    platform: str
    workspace: str
    user_id: str
    answer: str  # going, maybe, not_going, waiting (full: on the waiting list)
    role: str = ""  # a volunteer role, if they volunteered
    at: datetime | None = None
    id: int = None  # type: ignore[assignment]

    @property
    def ref(self) -> UserRef:
        return UserRef(self.platform, self.workspace, self.user_id)


@dataclass(eq=False)
class Subscription:
    platform: str
    workspace: str
    user_id: str
    kind: str  # region or topic
    value: str
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class CoffeeOptIn:
    platform: str
    workspace: str
    user_id: str
    every_weeks: int = 2
    regions: list[str] = field(default_factory=list)  # empty: anywhere
    employer: str = ""  # to introduce people from different trusts
    region: str = ""
    active: bool = True
    next_at: datetime | None = None
    id: int = None  # type: ignore[assignment]

    @property
    def ref(self) -> UserRef:
        return UserRef(self.platform, self.workspace, self.user_id)


@dataclass(eq=False)
class CoffeeIntro:
    platform: str
    workspace: str
    first: str  # user ids, first < second
    second: str
    made_at: datetime
    met: str = ""  # "", yes, not_yet
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class Expert:
    platform: str
    workspace: str
    user_id: str
    name: str
    topics: list[str] = field(default_factory=list)
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class ExpertRequest:
    expert_id: int
    match_id: int
    topic: str
    status: str = "asked"  # asked, accepted, declined
    at: datetime | None = None
    id: int = None  # type: ignore[assignment]


@dataclass(eq=False)
class DoubleDate:
    first_match: int
    second_match: int
    made_at: datetime
    id: int = None  # type: ignore[assignment]
