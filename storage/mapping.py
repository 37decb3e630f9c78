"""Maps the engine's record dataclasses onto the tables (SQLAlchemy imperative mapping)."""

from __future__ import annotations

from sqlalchemy.orm import registry

from conversations.core import model
from conversations.core import network as net
from storage import network_tables as nt
from storage import tables

mapper_registry = registry(metadata=tables.metadata)

_MAPPINGS = (
    (model.Cohort, tables.cohorts),
    (model.Coordinator, tables.coordinators),
    (model.Participant, tables.participants),
    (model.Match, tables.matches),
    (model.MatchMember, tables.match_members),
    (model.MatchProposal, tables.match_proposals),
    (model.TaskDefinition, tables.task_definitions),
    (model.Assignment, tables.assignments),
    (model.Response, tables.responses),
    (model.Nudge, tables.nudges),
    (model.ProgrammeEntry, tables.programme_entries),
    (model.AuditEntry, tables.audit_log),
    (model.OutboxItem, tables.outbox),
    (net.Organiser, nt.organisers),
    (net.Channel, nt.channels),
    (net.Event, nt.events),
    (net.Rsvp, nt.rsvps),
    (net.Subscription, nt.subscriptions),
    (net.CoffeeOptIn, nt.coffee_optins),
    (net.CoffeeIntro, nt.coffee_intros),
    (net.Expert, nt.experts),
    (net.ExpertRequest, nt.expert_requests),
    (net.DoubleDate, nt.double_dates),
    (model.ConsentRecord, tables.consent_records),
    (model.InboxMessage, tables.inbox_messages),
    (model.ImportBatch, tables.import_batches),
    (model.ImportRow, tables.import_rows),
)


def start_mappers() -> None:
    """Idempotent: safe to call from every entry point."""
    for cls, table in _MAPPINGS:
        if not hasattr(cls, "__mapper__"):
            mapper_registry.map_imperatively(cls, table)
