"""An in-memory Directory (people by work email) for the chat harness, the demo and benchmarks."""

from __future__ import annotations

from conversations.ports.directory import Person


class MemoryDirectory:
    service = "chat"

    def __init__(self, people: dict[str, str] | None = None, per_minute: float = 50.0) -> None:
        self.people = {
            email.lower(): user_id for email, user_id in (people or {}).items()
        }  # email -> user id
        self.per_minute = per_minute
        self.asked: list[str] = []

    async def find_by_email(self, workspace: str, email: str) -> Person | None:
        self.asked.append(email)
        user_id = self.people.get(email.lower())
        return Person(user_id) if user_id else None
