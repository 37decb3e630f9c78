"""Microsoft Teams adapter: Bot Framework activities in, Adaptive Cards out.

Every botbuilder import stays inside this package, so that moving to the Microsoft 365 Agents SDK
touches this folder only. ``bot/`` wires it::

    settings = TeamsSettings.from_env(os.environ)
    teams = build_teams(settings, db_engine)
    teams.add_routes(web_app, engine.handle, after_handle=wake_sender)
    messengers["teams"] = teams.messenger
"""

from adapters.teams.app import ROUTE, TeamsApp, build_teams
from adapters.teams.messenger import TeamsMessenger, capabilities_for
from adapters.teams.package import build_package
from adapters.teams.settings import GraphSettings, TeamsConfigError, TeamsSettings
from adapters.teams.tables import metadata

__all__ = [
    "ROUTE",
    "GraphSettings",
    "TeamsApp",
    "TeamsConfigError",
    "TeamsMessenger",
    "TeamsSettings",
    "build_package",
    "build_teams",
    "capabilities_for",
    "metadata",
]
