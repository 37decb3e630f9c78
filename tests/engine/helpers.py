"""Small builders shared by the engine tests."""

from __future__ import annotations

from adapters.memory.chat import Chat
from conversations.core.interactions import CloseForm, ShowForm

ADMIN = "UADMIN"
COHORT = "Test Cohort"


def registration(name: str, role: str = "clinician", **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "display_name": name,
        "role": role,
        "profession": "doctor" if role == "clinician" else "manager",
        "grade": "ST4" if role == "clinician" else "GMTS year 1",
        "specialty": "psychiatry" if role == "clinician" else "",
        "employer": "Northshire Mental Health NHS Foundation Trust",
        "employer_type": "mental_health",
        "region": "north_west",
        "interests": ("digital",),
        "consent_data": True,
        "consent_share": True,
    }
    if role == "specialist_manager":
        values["specialist_area"] = "finance"
    values.update(overrides)
    return values


def cohort(chat: Chat, name: str = COHORT) -> None:
    chat.person(ADMIN, "Rachel Coordinator")
    chat.say(ADMIN, f"cohort create {name}")


def register(chat: Chat, user_id: str, name: str, role: str = "clinician", **overrides: object) -> None:
    chat.person(user_id, name, f"{user_id.lower()}@example.nhs.uk")
    assert isinstance(chat.say(user_id, "join"), ShowForm), chat.last(user_id)
    outcome = chat.submit(user_id, registration(name, role, **overrides))
    assert isinstance(outcome, CloseForm), chat.last(user_id)


def matched_pair(chat: Chat) -> None:
    """A cohort with one clinician (U1) and one general manager (U2), matched and introduced."""
    cohort(chat)
    register(chat, "U1", "Asha Patel")
    register(chat, "U2", "Ben Okafor", "general_manager")
    chat.say(ADMIN, "match preview")
    chat.say(ADMIN, "match confirm")
