"""A front end on another origin (a Vite dev server on :5173), against a real daphne:
django-cors-headers answers its preflights and lets it send the session cookie, the
CSRF flow works with credentials, the WebSocket accepts its origin; any other origin
gets none of this. Configured as docs/OPERATIONS.md ("Other origins") says."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
import websockets

from tests.servers import DaphneServer, daphne

FRONT = "http://localhost:5173"
EVIL = "http://evil.example"
PASSWORD = "front-end-password"


@pytest.fixture(scope="module")
def server(django_db_setup: Any) -> Iterator[DaphneServer]:
    with daphne(CORS_ALLOWED_ORIGINS=FRONT, CSRF_TRUSTED_ORIGINS=FRONT,
                GRAPHQL_WS_ALLOWED_ORIGINS=FRONT) as running:
        yield running


def request(server: DaphneServer, method: str, headers: dict[str, str],
            body: dict[str, Any] | None = None) -> tuple[int, Any, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{server.http}/graphql", data, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, error.headers, json.loads(raw) if raw.startswith(b"{") else None


def cookies_of(headers: Any) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for line in headers.get_all("Set-Cookie") or []:
        jar.load(line)
    return {name: morsel.value for name, morsel in jar.items()}


def test_preflight_allows_the_front_end_with_credentials(server: DaphneServer) -> None:
    status, headers, _ = request(server, "OPTIONS", {
        "Origin": FRONT, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-csrftoken,x-consistency-cursor",
    })
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == FRONT
    assert headers["Access-Control-Allow-Credentials"] == "true"
    allowed = headers["Access-Control-Allow-Headers"].lower()
    needed = {"content-type", "x-csrftoken", "x-consistency-cursor"}
    assert needed <= {h.strip() for h in allowed.split(",")}
    assert "POST" in headers["Access-Control-Allow-Methods"]


def test_another_origin_gets_no_cors_headers(server: DaphneServer) -> None:
    _, headers, _ = request(server, "OPTIONS", {
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    })
    assert "Access-Control-Allow-Origin" not in headers
    _, headers, _ = request(server, "POST", {"Origin": EVIL, "Content-Type": "application/json"},
                            {"query": "{ csrf_token }"})
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.django_db(transaction=True)
def test_csrf_flow_with_credentials_from_the_front_end(server: DaphneServer) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("frontend", password=PASSWORD)
    json_from = {"Origin": FRONT, "Content-Type": "application/json"}
    status, headers, body = request(server, "POST", json_from, {"query": "{ csrf_token }"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == FRONT
    assert headers["Access-Control-Allow-Credentials"] == "true"
    token = cookies_of(headers)["csrftoken"]
    login = {"query": "mutation($u: String!, $p: String!) "
                      "{ login(username: $u, password: $p) { user { username } } }",
             "variables": {"u": "frontend", "p": PASSWORD}}

    # Without the header the cookie alone is refused, as Django's CSRF check says.
    status, _, body = request(server, "POST", {**json_from, "Cookie": f"csrftoken={token}"}, login)
    assert status == 403 or (body and body.get("errors")), body
    # The same token from an origin that is not trusted is refused too.
    status, _, body = request(server, "POST", {
        "Origin": EVIL, "Content-Type": "application/json", "Cookie": f"csrftoken={token}",
        "X-CSRFToken": token}, login)
    assert status == 403 or (body and body.get("errors")), body

    status, headers, body = request(server, "POST", {
        **json_from, "Cookie": f"csrftoken={token}", "X-CSRFToken": token}, login)
    assert status == 200, body
    assert body["data"]["login"]["user"]["username"] == "frontend"
    cookies = {"csrftoken": token, **cookies_of(headers)}
    assert "sessionid" in cookies
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())

    status, _, body = request(server, "POST", {**json_from, "Cookie": cookie},
                              {"query": "{ me { username } }"})
    assert body["data"]["me"]["username"] == "frontend"

    async def over_the_socket(origin: str) -> Any:
        async with websockets.connect(
                server.ws, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                origin=origin, additional_headers={"Cookie": cookie}) as socket:
            await socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                          "payload": {"query": "{ me { username } }"}}))
            return json.loads(await asyncio.wait_for(socket.recv(), 30))

    message = asyncio.run(over_the_socket(FRONT))
    assert message["payload"]["data"]["me"]["username"] == "frontend"
    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(over_the_socket(EVIL))
    assert refused.value.response.status_code == 403
