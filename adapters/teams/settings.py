"""Teams settings, read from the environment.

An empty ``MICROSOFT_APP_ID`` switches Bot Framework authentication off (every request is accepted
as anonymous), so :meth:`TeamsSettings.from_env` refuses it unless ``BUDDY_TEAMS_DEV_MODE=1`` says
that is meant (local runs with the Agents Playground).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEV_MODE_VAR = "BUDDY_TEAMS_DEV_MODE"
APP_ID_VAR = "MICROSOFT_APP_ID"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
GRAPH_BASE_URL = "https://graph.microsoft.com/v1.0"
LOGIN_BASE_URL = "https://login.microsoftonline.com"


class TeamsConfigError(ValueError):
    """The Teams settings cannot be used as given; the message names the setting to change."""


@dataclass(frozen=True)
class GraphSettings:
    """App-only Microsoft Graph credentials, used to create group chats for introductions.

    Needs application permissions ``Chat.Create`` and ``TeamsAppInstallation.ReadWriteSelfForChat.All``
    (admin consent); ``TeamMember.ReadWriteNonOwnerRole.All`` lets ``join #channel`` add people to
    a listed channel's team; survey imports also use ``User.ReadBasic.All`` (people by work email)
    and ``TeamsAppInstallation.ReadWriteSelfForUser.All`` (the app added for them before their
    welcome). ``catalog_app_id`` is the app's id in the tenant's app catalog, which Graph
    needs to install the app into a new chat (it differs from the manifest id for org-uploaded apps).
    """

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    catalog_app_id: str
    base_url: str = GRAPH_BASE_URL
    login_url: str = LOGIN_BASE_URL


@dataclass(frozen=True)
class AuthEndpoints:
    """Overrides for Bot Framework's token endpoints (sovereign clouds; tests with a fake issuer).

    When given, botbuilder's parameterized authentication is used with these values instead of
    the public cloud's built-in ones.
    """

    openid_metadata_url: str
    token_issuer: str = "https://api.botframework.com"
    login_url: str = "https://login.microsoftonline.com/botframework.com"
    oauth_scope: str = "https://api.botframework.com"


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"  # MultiTenant | SingleTenant | UserAssignedMSI
    app_tenant_id: str = ""
    dev_mode: bool = False
    service_url: str = DEFAULT_SERVICE_URL  # where to create 1:1 chats nobody has opened yet
    graph: GraphSettings | None = None
    auth_endpoints: AuthEndpoints | None = None
    dedupe_ttl_seconds: int = 24 * 3600

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @staticmethod
    def from_env(env: Mapping[str, str]) -> TeamsSettings:
        app_id = env.get(APP_ID_VAR, "").strip()
        dev_mode = env.get(DEV_MODE_VAR, "").strip().lower() in ("1", "true", "yes", "on")
        if not app_id and not dev_mode:
            raise TeamsConfigError(
                f"{APP_ID_VAR} is empty: Teams requests would not be authenticated. Set {APP_ID_VAR} "
                f"(and MICROSOFT_APP_PASSWORD) from your Azure Bot registration, or set {DEV_MODE_VAR}=1 "
                "to accept anonymous requests for local development only."
            )
        app_type = env.get("MICROSOFT_APP_TYPE", "MultiTenant").strip() or "MultiTenant"
        tenant = env.get("MICROSOFT_APP_TENANT_ID", "").strip()
        if app_type.lower() in ("singletenant", "userassignedmsi") and app_id and not tenant:
            raise TeamsConfigError(f"MICROSOFT_APP_TYPE={app_type} needs MICROSOFT_APP_TENANT_ID.")
        return TeamsSettings(
            app_id=app_id,
            app_password=env.get("MICROSOFT_APP_PASSWORD", ""),
            app_type=app_type,
            app_tenant_id=tenant,
            dev_mode=dev_mode,
            service_url=env.get("BUDDY_TEAMS_SERVICE_URL", "").strip() or DEFAULT_SERVICE_URL,
            graph=_graph_from_env(env),
        )


def _graph_from_env(env: Mapping[str, str]) -> GraphSettings | None:
    names = (
        "BUDDY_GRAPH_TENANT_ID",
        "BUDDY_GRAPH_CLIENT_ID",
        "BUDDY_GRAPH_CLIENT_SECRET",
        "BUDDY_GRAPH_TEAMS_APP_ID",
    )
    values = [env.get(n, "").strip() for n in names]
    if not any(values):
        return None
    missing = [n for n, v in zip(names, values, strict=True) if not v]
    if missing:
        raise TeamsConfigError(f"Graph group chats need {', '.join(names)}; missing: {', '.join(missing)}.")
    return GraphSettings(
        tenant_id=values[0],
        client_id=values[1],
        client_secret=values[2],
        catalog_app_id=values[3],
        base_url=env.get("BUDDY_GRAPH_BASE_URL", "").strip().rstrip("/") or GRAPH_BASE_URL,
        login_url=env.get("BUDDY_GRAPH_LOGIN_URL", "").strip().rstrip("/") or LOGIN_BASE_URL,
    )
