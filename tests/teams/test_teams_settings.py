from __future__ import annotations

import pytest

from adapters.teams import TeamsConfigError, TeamsSettings, capabilities_for


def test_an_empty_app_id_is_refused_naming_the_development_setting():
    with pytest.raises(TeamsConfigError) as caught:
        TeamsSettings.from_env({})
    assert "MICROSOFT_APP_ID" in str(caught.value) and "BUDDY_TEAMS_DEV_MODE=1" in str(caught.value)


def test_development_mode_allows_anonymous_requests():
    settings = TeamsSettings.from_env({"BUDDY_TEAMS_DEV_MODE": "1"})
    assert settings.dev_mode and not settings.auth_enabled


def test_an_app_id_turns_authentication_on():
    env = {"MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555", "MICROSOFT_APP_PASSWORD": "s3cret"}
    settings = TeamsSettings.from_env(env)
    assert settings.auth_enabled and settings.app_type == "MultiTenant"
    assert "s3cret" not in repr(settings)


def test_single_tenant_needs_its_tenant():
    env = {"MICROSOFT_APP_ID": "x", "MICROSOFT_APP_TYPE": "SingleTenant"}
    with pytest.raises(TeamsConfigError, match="MICROSOFT_APP_TENANT_ID"):
        TeamsSettings.from_env(env)


def test_graph_is_all_or_nothing_and_turns_group_chats_on():
    base = {"BUDDY_TEAMS_DEV_MODE": "1"}
    assert capabilities_for(TeamsSettings.from_env(base)).group_dm is False
    with pytest.raises(TeamsConfigError, match="BUDDY_GRAPH_CLIENT_SECRET"):
        TeamsSettings.from_env({**base, "BUDDY_GRAPH_TENANT_ID": "t", "BUDDY_GRAPH_CLIENT_ID": "c"})
    full = {
        **base,
        "BUDDY_GRAPH_TENANT_ID": "t",
        "BUDDY_GRAPH_CLIENT_ID": "c",
        "BUDDY_GRAPH_CLIENT_SECRET": "graph-s3cret",
        "BUDDY_GRAPH_TEAMS_APP_ID": "catalog",
    }
    settings = TeamsSettings.from_env(full)
    assert settings.graph is not None and settings.graph.base_url == "https://graph.microsoft.com/v1.0"
    assert capabilities_for(settings).group_dm is True
    assert "graph-s3cret" not in repr(settings)
