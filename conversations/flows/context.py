"""What every flow needs for one interaction: the unit of work, the time, who is acting, and
the capabilities of the platform they are on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from conversations.core.model import AuditEntry, Cohort, Participant, Status
from conversations.core.network import Organiser
from conversations.core.refs import UserRef
from conversations.core.routes import RouteTable
from conversations.ports.messenger import Capabilities
from conversations.ports.store import LastConsent, UnitOfWork

OPERATOR = UserRef("cli", "local", "operator")  # who acts at the command line, in audit entries


def admin_key(user: UserRef) -> str:
    """How an administrator is named in ``BUDDY_ADMINS``: ``WORKSPACE:USER``."""
    return f"{user.workspace}:{user.user_id}"


def in_workspace(cohort: Cohort, user: UserRef) -> bool:
    return cohort.platform == user.platform and cohort.workspace == user.workspace


class Refusal(Exception):
    """A polite, user-facing 'no': the message is shown to the actor as it is."""


@dataclass
class Ctx:
    uow: UnitOfWork
    now: datetime
    seed: int
    capabilities: Mapping[str, Capabilities]
    admins: frozenset[str]
    routes: RouteTable | None = None  # for help and "did you mean"

    def caps(self, platform: str) -> Capabilities:
        return self.capabilities.get(platform, Capabilities())

    def is_admin(self, user: UserRef) -> bool:
        """Administrators are bound to a workspace (``T0123:U0456``): the same user id in another
        workspace or tenant is somebody else."""
        return admin_key(user) in self.admins or user.key in self.admins

    def is_organiser(self, user: UserRef) -> bool:
        """Organises the network of the person's workspace (administrators do too)."""
        return self.is_admin(user) or bool(
            self.uow.records(Organiser).where(
                platform=user.platform, workspace=user.workspace, user_id=user.user_id
            )
        )

    def here(self, user: UserRef) -> list[Cohort]:
        """The cohorts of the actor's own workspace or tenant."""
        return [c for c in self.uow.cohorts.all() if in_workspace(c, user)]

    def coordinated(self, user: UserRef) -> list[Cohort]:
        """The cohorts this person may coordinate: theirs, or every one here for an administrator."""
        if self.is_admin(user):
            return self.here(user)
        return [c for c in self.uow.cohorts.coordinated_by(user) if in_workspace(c, user)]

    def is_coordinator(self, user: UserRef, cohort: Cohort) -> bool:
        if not in_workspace(cohort, user):
            return False
        if self.is_admin(user):
            return True
        return any(
            c.platform == user.platform and c.workspace == user.workspace and c.user_id == user.user_id
            for c in self.uow.cohorts.coordinators(cohort.id)
        )

    def participant(self, user: UserRef) -> Participant | None:
        """The actor's current membership: the newest one they have not left."""
        rows = [p for p in self.uow.participants.for_user(user) if p.status != Status.LEFT]
        return rows[-1] if rows else None

    def member_and_consent(self, user: UserRef, kind: str) -> tuple[Participant | None, LastConsent | None]:
        """:meth:`participant`, and what their newest consent record of ``kind`` says, in one lookup
        (every member interaction asks both)."""
        rows, consent = self.uow.participants.for_user_and_consent(user, kind)
        current = [p for p in rows if p.status != Status.LEFT]
        return (current[-1] if current else None), consent

    def cohort_for_coordinator(self, user: UserRef, name: str | None) -> Cohort:
        """The cohort a coordinator's command acts on: the one named, or the only one they run.
        Cohorts of other workspaces are invisible: they get the same answer as a name never used."""
        if name:
            cohort = self.uow.cohorts.by_name(name)
            if cohort is None or not in_workspace(cohort, user):
                raise Refusal(f"There is no cohort called “{name}”. Try `cohort list`.")
            if not self.is_coordinator(user, cohort):
                raise Refusal(f"Sorry, only the coordinators of {cohort.name} can do that.")
            return cohort
        cohorts = self.coordinated(user)
        if not cohorts:
            raise Refusal(
                "Sorry, that command is for scheme coordinators, and you don't coordinate a cohort here."
            )
        if len(cohorts) > 1:
            names = ", ".join(c.name for c in cohorts)
            raise Refusal(f"You coordinate several cohorts ({names}): add `cohort=NAME` to say which.")
        return cohorts[0]

    def open_cohort(self, user: UserRef, name: str | None) -> Cohort:
        if name:
            cohort = self.uow.cohorts.by_name(name)
            if cohort is None or not in_workspace(cohort, user):
                raise Refusal(f"There is no cohort called “{name}”.")
        else:
            here = [
                c
                for c in self.uow.cohorts.all()
                if c.platform == user.platform and c.workspace == user.workspace and c.registration_open
            ]
            if not here:
                raise Refusal("Registration isn't open for any buddy scheme here at the moment.")
            if len(here) > 1:
                names = ", ".join(c.name for c in here)
                raise Refusal(f"Several schemes are open ({names}): say which, e.g. `join {here[0].name}`.")
            cohort = here[0]
        if not cohort.registration_open:
            raise Refusal(f"Registration for {cohort.name} is closed. Ask a coordinator to add you.")
        return cohort

    def audit(self, cohort: Cohort | None, actor: UserRef, action: str, **detail: object) -> None:
        self.uow.audit.add(
            AuditEntry(
                cohort_id=cohort.id if cohort else None,
                actor=actor.key,
                action=action,
                detail=dict(detail),
                at=self.now,
            )
        )
