"""The Teams app package: ``manifest.json`` (manifestVersion 1.29) and two icons, zipped.

Upload it in Teams (Apps > Manage your apps > Upload an app) or the Developer Portal. Commands are
plain chat messages parsed by the engine; ``commandLists`` only advertises them in the compose
box's menu, which holds at most 12 commands a scope. All commands work when typed, in any chat.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from adapters.teams.icons import color_icon, outline_icon
from conversations.catalogue import table
from conversations.core.routes import Who

MANIFEST_VERSION = "1.29"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

PERSONAL_COMMANDS = ("help", "join", "profile", "task", "status", "pause", "resume", "leave",
                     "match preview", "match confirm", "task send", "nudge")  # fmt: skip
GROUP_COMMANDS = ("help", "task", "status", "match preview", "match confirm", "task send", "nudge", "export",
                  "digest")  # fmt: skip


def menu(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Titles and descriptions for the compose box's menu, from the engine's route table (so they
    cannot drift from what the commands do); coordinators' commands say so."""
    routes = table().commands
    items = []
    for name in names:
        route = routes[tuple(name.split())]
        summary = route.summary[:1].upper() + route.summary[1:]
        who = "Coordinators: " if route.who in (Who.COORDINATOR, Who.ADMIN) else ""
        items.append((name, (who + (summary if not who else route.summary))[:128]))
    return tuple(items)


ALL_COMMANDS = tuple(dict.fromkeys(PERSONAL_COMMANDS + GROUP_COMMANDS))


def manifest(
    app_id: str,
    *,
    manifest_id: str = "",
    version: str = "1.0.0",
    short_name: str = "Buddy",
    developer_name: str = "Buddy maintainers",
    website_url: str = "https://github.com/buddy-scheme/buddy",
    privacy_url: str = "https://github.com/buddy-scheme/buddy/blob/main/PRIVACY.md",
    terms_url: str = "https://github.com/buddy-scheme/buddy/blob/main/LICENSE",
    accent_color: str = "#005EB8",
    valid_domains: tuple[str, ...] = (),
    graph_app_id: str = "",
) -> dict[str, Any]:
    """The manifest; ``app_id`` is the bot's Microsoft App ID, ``manifest_id`` the app's (default: same).

    ``graph_app_id`` is the Entra app Buddy uses for Microsoft Graph (``BUDDY_GRAPH_CLIENT_ID``).
    Microsoft's guide to installing an app for people proactively asks for it as
    ``webApplicationInfo.id``; the ``resource`` is any URI for a bot, so it is the app's own.
    """
    checks = [("app_id", app_id), ("manifest_id", manifest_id or app_id)]
    if graph_app_id:
        checks.append(("graph_app_id", graph_app_id))
    for label, value in checks:
        if not _GUID.match(value):
            raise ValueError(f"{label} must be a GUID (the Azure Bot's Microsoft App ID), got {value!r}")

    def commands(names: tuple[str, ...]) -> list[dict[str, str]]:
        return [{"title": title, "description": description} for title, description in menu(names)]

    data: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": manifest_id or app_id,
        "developer": {
            "name": developer_name[:32],
            "websiteUrl": website_url,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": short_name[:30], "full": "Buddy: NHS buddy scheme"},
        "description": {
            "short": "Pairs junior doctors with management trainees for a buddy scheme.",
            "full": (
                "Buddy runs an NHS buddy scheme in Teams: people register through a short dialog, are "
                "matched with a buddy from the other profession, introduced in a group chat, and get a "
                "task to talk about every week (the coordinator sets how often). Coordinators preview and confirm matches, nudge "
                "quiet pairs and export progress. Type 'help' in a chat with Buddy to start."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": accent_color,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "groupChat", "team"],
                "isNotificationOnly": False,
                "supportsFiles": True,  # exports, sent after the person accepts a file consent card
                "commandLists": [
                    {"scopes": ["personal"], "commands": commands(PERSONAL_COMMANDS)},
                    {"scopes": ["groupChat", "team"], "commands": commands(GROUP_COMMANDS)},
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": list(valid_domains),
    }
    if graph_app_id:
        data["webApplicationInfo"] = {"id": graph_app_id, "resource": f"api://{graph_app_id}"}
    return data


def build_package(out_path: str | Path, app_id: str, **options: Any) -> Path:
    """Write the app package zip to ``out_path``; ``options`` go to :func:`manifest`."""
    data = manifest(app_id, **options)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("color.png", color_icon(data["accentColor"]))
        archive.writestr("outline.png", outline_icon())
    return out
