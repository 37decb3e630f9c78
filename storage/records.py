"""One repository for plain records: the network's channels, events, answers and opt-ins need no
queries of their own beyond "these columns equal these values"."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

R = TypeVar("R")


class SqlRecords(Generic[R]):
    def __init__(self, session: Session, kind: type[R]) -> None:
        self.session = session
        self.kind = kind

    def add(self, record: R) -> R:
        self.session.add(record)
        self.session.flush()
        return record

    def get(self, record_id: int) -> R | None:
        return self.session.get(self.kind, record_id)

    def where(self, **equal: Any) -> list[R]:
        stmt = select(self.kind)
        columns = self.kind.__table__.c  # type: ignore[attr-defined]
        for name, value in equal.items():
            stmt = stmt.where(columns[name] == value)
        return list(self.session.scalars(stmt.order_by(columns["id"])))

    def delete(self, record: R) -> None:
        self.session.delete(record)
        self.session.flush()
