"""Hand-written Bolt apps doing the same inbound work as Buddy: the peers ``bench/inbound.py``
measures Buddy against, in the same run.

Each app answers ``/buddy pause|resume`` and the ``pause`` / ``resume`` buttons for the people in
its own SQLite file. Per request it does what Buddy does: Bolt verifies the signature and parses
the request; the app finds the person's row and changes it through a SQLAlchemy ``Session`` with a
commit; a command's answer is the ack's body; a button is acked at once and its answer goes to
``response_url`` after the write. They ack the way Buddy does (``process_before_response``, with
the work after a button's ack in a task of its own), so neither waits for Bolt's 10 ms ack polling.

Three ways a careful developer might write it:

- **plain**: the write inline on the event loop; the answer through Bolt's ``respond()`` (a new
  HTTP session per answer);
- **to_thread**: the write in ``asyncio.to_thread``; the answer through ``respond()``;
- **tuned**: the write inline, and one ``aiohttp`` session kept for every ``response_url``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from sqlalchemy import Engine, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

REFERENCES = ("plain", "to_thread", "tuned")
ANSWERS = {
    "pause": "Paused: no introductions or reminders until you resume.",
    "resume": "Welcome back: you're in the next round.",
}


class _Base(DeclarativeBase):
    pass


class Person(_Base):
    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))


def database(path: str, team: str, user_ids: list[str]) -> Engine:
    """The people's SQLite file, set up as Buddy sets up its own (WAL, commits without an fsync
    each), so the comparison is of the code, not of the disk."""
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    _Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Person(user_id=u, team_id=team, status="registered") for u in user_ids)
        session.commit()
    return engine


def _write(engine: Engine, team: str, user_id: str, verb: str) -> str:
    """Change the person's row; the answer to show them."""
    with Session(engine) as session:
        person = session.get(Person, user_id)
        if person is None or person.team_id != team:
            return "You're not registered yet: type `/buddy join` first."
        person.status = "paused" if verb == "pause" else "registered"
        session.commit()
    return ANSWERS[verb]


class Pending:
    """The work after the acks still running, so the bench can wait until it is done."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


def build(kind: str, *, signing_secret: str, client: Any, engine: Engine, pending: Pending) -> AsyncApp:
    if kind not in REFERENCES:
        raise ValueError(f"unknown reference app {kind!r}")
    app = AsyncApp(signing_secret=signing_secret, client=client, process_before_response=True)
    session: aiohttp.ClientSession | None = None

    async def write(team: str, user_id: str, verb: str) -> str:
        if kind == "to_thread":
            return await asyncio.to_thread(_write, engine, team, user_id, verb)
        return _write(engine, team, user_id, verb)

    async def answer(respond: Any, url: str, text: str) -> None:
        nonlocal session
        if kind != "tuned":
            await respond(text=text, replace_original=True)
            return
        if session is None:
            session = aiohttp.ClientSession()
        async with session.post(url, json={"text": text, "replace_original": True}) as response:
            await response.read()

    @app.command("/buddy")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        verb = command.get("text", "").strip().lower()
        if verb not in ANSWERS:
            await ack("Try `/buddy pause` or `/buddy resume`.")
            return
        await ack(await write(command["team_id"], command["user_id"], verb))

    @app.action(re.compile("^(pause|resume)$"))
    async def button(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()

        async def after() -> None:
            text = await write(body["team"]["id"], body["user"]["id"], action["action_id"])
            await answer(respond, body["response_url"], text)

        pending.start(after())

    return app
