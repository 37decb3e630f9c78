"""Settings from the environment (and a ``.env`` file beside the working directory)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.affinity import AffinityError, choose_cpu
from conversations.flows.retention import Retention
from storage.database import DEFAULT_URL


class SettingsError(ValueError):
    """A missing or contradictory setting; the message names it."""


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise SettingsError(f"{path}, line {number}: expected NAME=value")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def environment(env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> dict[str, str]:
    """The process environment over the ``.env`` file: real environment variables win."""
    merged = read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env")
    merged.update(env if env is not None else os.environ)
    return merged


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    admins: tuple[str, ...] = ()
    seed: int = 0
    host: str = "127.0.0.1"
    port: int = 3978
    metrics: bool = False  # /metrics on the main port (BUDDY_METRICS=1)
    metrics_port: int | None = None  # /metrics on a port of its own (BUDDY_METRICS_PORT)
    retention: Retention = Retention()
    cpu: int | None = None  # the CPU ``serve`` keeps to (BUDDY_CPU; bot.affinity)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, web: bool = False) -> Settings:
        """Only the settings a command uses are checked: ``HOST`` and ``PORT`` with ``web`` (``serve``),
        so that ``PORT=0 buddybot db upgrade`` works while ``PORT=0 buddybot serve`` names the fix."""
        port_text = env.get("PORT", "3978")
        port = 3978
        database_url = env.get("DATABASE_URL", DEFAULT_URL) or DEFAULT_URL
        cpu = None
        if web:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise SettingsError(f"PORT must be a port number from 1 to 65535, not {port_text!r}")
            port = int(port_text)
            try:
                cpu = choose_cpu(env.get("BUDDY_CPU", "auto"), database_url)
            except AffinityError as error:
                raise SettingsError(str(error)) from error
        seed_text = env.get("BUDDY_SEED", "0")
        if not seed_text.lstrip("-").isdigit():
            raise SettingsError(f"BUDDY_SEED must be a whole number, not {seed_text!r}")
        metrics_text = env.get("BUDDY_METRICS", "0").strip() or "0"
        if metrics_text not in ("0", "1"):
            raise SettingsError(f"BUDDY_METRICS must be 1 (serve /metrics) or 0, not {metrics_text!r}")
        metrics_port_text = env.get("BUDDY_METRICS_PORT", "").strip()
        if metrics_port_text and not (metrics_port_text.isdigit() and 0 < int(metrics_port_text) < 65536):
            raise SettingsError(
                f"BUDDY_METRICS_PORT must be a port number from 1 to 65535, not {metrics_port_text!r}"
            )
        admins = tuple(a.strip() for a in env.get("BUDDY_ADMINS", "").split(",") if a.strip())
        bare = [a for a in admins if ":" not in a]
        if bare:
            raise SettingsError(
                "BUDDY_ADMINS names each administrator with their workspace or tenant, like T0123:U0456 "
                f"(Slack team id or Teams tenant id, a colon, then their user id); these have none: {', '.join(bare)}"
            )
        try:
            retention = Retention.from_settings(dict(env))
        except ValueError as error:
            raise SettingsError(str(error)) from error
        notice = env.get("BUDDY_PRIVACY_NOTICE", "").strip()
        if notice:
            from conversations.flows.consent import NoticeError, use_notice

            try:
                use_notice(Path(notice))
            except NoticeError as error:
                raise SettingsError(f"BUDDY_PRIVACY_NOTICE: {error}") from error
        return cls(
            retention=retention,
            database_url=database_url,
            admins=admins,
            seed=int(seed_text),
            host=env.get("HOST", "127.0.0.1"),
            port=port,
            metrics=metrics_text == "1",
            metrics_port=int(metrics_port_text) if metrics_port_text else None,
            cpu=cpu,
        )
