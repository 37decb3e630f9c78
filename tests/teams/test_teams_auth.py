"""Authentication on: JWTs signed with a test key, published by a fake OpenID metadata endpoint."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.teams import TeamsSettings
from adapters.teams.settings import AuthEndpoints
from conversations.core.interactions import Installed
from tests.teams.conftest import start_harness
from tests.teams.fake_teams import bot_added

APP_ID = "11111111-2222-3333-4444-555555555555"
ISSUER = "https://api.botframework.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def openid_url():
    """botbuilder fetches the keys with blocking ``requests``: serve them from another thread."""
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update(kid="test-key", use="sig", endorsements=["msteams"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = (
                {"issuer": ISSUER, "jwks_uri": f"{host}/keys"} if self.path == "/openid" else {"keys": [jwk]}
            )
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/openid"
    server.shutdown()


@pytest.fixture
async def secured(db, connector, openid_url):
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password="test-password",
        service_url=connector.url,
        auth_endpoints=AuthEndpoints(openid_metadata_url=openid_url, token_issuer=ISSUER),
    )
    h = await start_harness(db, connector, settings)
    yield h
    await h.server.close()


def token(service_url: str, *, key=KEY, **claims: object) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 600,
    } | claims
    return "Bearer " + jwt.encode(body, key, algorithm="RS256", headers={"kid": "test-key"})


async def test_a_correctly_signed_request_is_accepted(secured):
    activity = bot_added(secured.service_url)
    status, _ = await secured.post(activity, {"Authorization": token(secured.service_url)})
    assert status == 200
    assert [type(i) for i in secured.engine.interactions] == [Installed]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer not-a-jwt",
        "Basic Zm9vOmJhcg==",
        "wrong-audience",
        "wrong-service-url",
        "expired",
        "other-key",
        "other-issuer",
    ],
)
async def test_everything_else_is_401(secured, header):
    url = secured.service_url
    headers = {
        "wrong-audience": token(url, aud="someone-else"),
        "wrong-service-url": token(url, serviceurl="https://evil.example/"),
        "expired": token(url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
        "other-key": token(url, key=OTHER_KEY),
        "other-issuer": token(url, iss="https://evil.example"),
    }
    value = headers.get(header, header)
    status, _ = await secured.post(bot_added(url), {"Authorization": value} if value else {})
    assert status == 401
    assert secured.engine.interactions == []
