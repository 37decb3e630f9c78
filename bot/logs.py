"""Logging: plain lines or one JSON object per line (``BUDDY_LOG_FORMAT=json``), each with the id
of the request it belongs to, and never a person's name, answer or email.

A request id is made when a Slack or Teams request arrives (:func:`bot.inbound.middleware`) and
kept in a context variable. It follows the interaction everywhere its context goes: the engine
runner's threads (the runner copies the caller's context), Slack's background work after the ack,
and the outbox: the store logs each queued row's key with it, and the sender's log lines carry the
same key, so ``grep`` on a request id finds the key, and the key finds the send.

Personal data: Buddy's own modules log ids, keys, counts and error codes only. Libraries are less
careful at DEBUG (SQLAlchemy logs result rows, slack_sdk and botbuilder log request bodies, which
hold names and answers), so :data:`QUIET_LOGGERS` stay at INFO or above whatever the level asked for.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")

# Libraries whose DEBUG output carries message bodies or database rows (personal data).
QUIET_LOGGERS = {
    "sqlalchemy": logging.WARNING,
    "alembic": logging.WARNING,
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "botbuilder": logging.INFO,
    "botframework": logging.INFO,
    "msrest": logging.WARNING,
    "msal": logging.WARNING,
    "urllib3": logging.WARNING,
    "aiohttp.client": logging.INFO,
    "apscheduler": logging.INFO,
    "asyncio": logging.INFO,
    "fontTools": logging.WARNING,  # at INFO, the glyphs of each PDF: the letters of names and answers
    "fpdf": logging.ERROR,  # its warnings list the characters a font lacks, taken from names and answers
}


@dataclass
class RequestScope:
    """What is known about the inbound request being handled: its id, platform and kind."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    platform: str = ""
    kind: str = ""
    matching: list[int] = field(default_factory=list)  # sizes of match plans made for it


REQUEST: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar("buddy_request", default=None)


def request_id() -> str:
    scope = REQUEST.get()
    return scope.id if scope is not None else ""


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "")
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", "")
        return f"{line} [request {rid}]" if rid else line


class LogSettingsError(ValueError):
    pass


def log_settings(env: Mapping[str, str]) -> tuple[str, str]:
    """``BUDDY_LOG_FORMAT`` (text or json) and ``BUDDY_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR)."""
    fmt = env.get("BUDDY_LOG_FORMAT", "text").strip().lower() or "text"
    level = env.get("BUDDY_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if fmt not in FORMATS:
        raise LogSettingsError(f"BUDDY_LOG_FORMAT must be text or json, not {fmt!r}")
    if level not in LEVELS:
        raise LogSettingsError(f"BUDDY_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    return fmt, level


def configure_logging(env: Mapping[str, str], stream: Any = None) -> logging.Handler:
    """Set up the root logger from the environment; returns the handler it installed."""
    try:
        fmt, level = log_settings(env)
    except LogSettingsError as error:
        print(f"buddybot: {error}; using text at INFO", file=sys.stderr)
        fmt, level = "text", "INFO"
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # Python's warnings too, so every line on stderr has the format
    quiet_libraries()
    return handler


def quiet_libraries() -> None:
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(floor)
