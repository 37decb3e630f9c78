"""Builders for the cadence and delivery tests: a cohort of matched pairs, made directly in the store."""

from __future__ import annotations

from datetime import datetime

from conversations.core.model import Cohort, Coordinator, Match, Participant, Status
from conversations.engine import Engine

COORDINATOR = "UADMIN"


def scheme(
    engine: Engine,
    pairs: int,
    created_at: datetime,
    *,
    platform: str = "memory",
    workspace: str = "T1",
    name: str = "North",
    channels: bool = False,
) -> int:
    """A cohort with ``pairs`` active matches (clinician UA<i> + manager UB<i>); its id.

    With ``channels`` each match already has its own conversation (``C<i>``), as after an introduction.
    """

    def work(ctx) -> int:  # type: ignore[no-untyped-def]
        cohort = ctx.uow.cohorts.add(
            Cohort(name=name, platform=platform, workspace=workspace, created_at=created_at)
        )
        ctx.uow.cohorts.add_coordinator(Coordinator(cohort.id, platform, workspace, COORDINATOR))
        for i in range(pairs):
            people = [
                ctx.uow.participants.add(
                    Participant(
                        cohort.id,
                        platform,
                        workspace,
                        f"U{side}{i}",
                        f"Person {side}{i}",
                        role,
                        status=Status.MATCHED,
                        registered_at=created_at,
                        consent_data=True,
                    )  # fmt: skip
                )
                for side, role in (("A", "clinician"), ("B", "general_manager"))
            ]
            conversation = (
                {"platform": platform, "workspace": workspace, "conversation_id": f"C{i:06d}", "extra": ""}
                if channels
                else {}
            )
            ctx.uow.matches.add(
                Match(cohort.id, 1, 1.0, created_at=created_at, conversation=conversation),
                [p.id for p in people],
            )
        return cohort.id

    return engine.run(work)
