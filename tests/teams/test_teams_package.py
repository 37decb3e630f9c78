from __future__ import annotations

import json
import struct
import zipfile

import jsonschema
import pytest

from adapters.teams import build_package
from adapters.teams.package import ALL_COMMANDS, manifest
from tests.teams.conftest import schema_path

APP_ID = "11111111-2222-3333-4444-555555555555"
REQUIRED = {
    "help",
    "join",
    "profile",
    "task",
    "status",
    "pause",
    "resume",
    "leave",
    "match preview",
    "match confirm",
    "task send",
    "nudge",
    "export",
    "digest",
}


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_package_holds_a_manifest_and_both_icons(tmp_path):
    path = build_package(tmp_path / "buddy-teams.zip", APP_ID)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        data = json.loads(archive.read("manifest.json"))
        assert _png_size(archive.read("color.png")) == (192, 192)
        assert _png_size(archive.read("outline.png")) == (32, 32)
    assert data["bots"][0]["botId"] == APP_ID and data["id"] == APP_ID


def test_the_manifest_validates_against_the_official_1_29_schema(tmp_path):
    schema = json.loads(schema_path("teams-app-manifest.schema.json").read_text())
    with zipfile.ZipFile(build_package(tmp_path / "p.zip", APP_ID)) as archive:
        data = json.loads(archive.read("manifest.json"))
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    assert data["manifestVersion"] == "1.29"


def test_with_graph_the_manifest_names_the_graph_app_and_still_validates(tmp_path):
    """Installing the app for people by Graph needs ``webApplicationInfo`` naming the Graph app."""
    graph_app = "99999999-8888-7777-6666-555555555555"
    schema = json.loads(schema_path("teams-app-manifest.schema.json").read_text())
    with zipfile.ZipFile(build_package(tmp_path / "p.zip", APP_ID, graph_app_id=graph_app)) as archive:
        data = json.loads(archive.read("manifest.json"))
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    assert data["webApplicationInfo"]["id"] == graph_app
    assert "webApplicationInfo" not in manifest(APP_ID)
    with pytest.raises(ValueError, match="graph_app_id must be a GUID"):
        manifest(APP_ID, graph_app_id="not-a-guid")


def test_the_schema_check_is_real():
    schema = json.loads(schema_path("teams-app-manifest.schema.json").read_text())
    broken = manifest(APP_ID)
    broken["bots"][0]["commandLists"][0]["commands"] *= 2  # 24 > 12 commands
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(schema)(schema).validate(broken)


def test_every_command_is_advertised():
    data = manifest(APP_ID)
    titles = {c["title"] for lst in data["bots"][0]["commandLists"] for c in lst["commands"]}
    assert REQUIRED <= titles == set(ALL_COMMANDS)


def test_an_app_id_that_is_not_a_guid_is_refused(tmp_path):
    with pytest.raises(ValueError, match="GUID"):
        build_package(tmp_path / "p.zip", "not-a-guid")
