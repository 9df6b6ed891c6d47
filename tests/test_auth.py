"""Authentication: sessions with CSRF, bearer tokens over HTTP and WebSocket, throttling.

HTTP flows run through Django's test client with CSRF enforced (as a browser gets it);
WebSocket flows run against real daphne processes over real sockets, one with the
default settings and one whose tokens expire within seconds
(``tests/settings_short_tokens.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import logout
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest
from django.test import Client, override_settings

from api_graphql import tokens
from myproject.models import Tag
from tests.conftest import PASSWORD, GraphQLClient
from tests.servers import DaphneServer, daphne
from tests.ws_client import GraphQLSocket

LOGIN = ("mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
         "{ user { username is_staff } } }")
TOKEN_AUTH = ("mutation($u: String!, $p: String!) { token_auth(username: $u, password: $p) "
              "{ token expires_at user { username } } }")
ME = "{ me { id username email is_staff is_superuser permissions } }"


@pytest.fixture(autouse=True)
def no_throttle_history() -> Iterator[None]:
    """The login throttle lives in the cache: every test starts from a clean slate."""
    cache.clear()
    yield
    cache.clear()


def gql_post(client: Client, query: str, variables: dict[str, Any] | None = None,
             **headers: Any) -> Any:
    return client.post("/graphql", json.dumps({"query": query, "variables": variables}),
                       content_type="application/json", **headers)


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


# -- sessions and CSRF over HTTP -----------------------------------------------------
def test_session_login_me_logout_with_csrf(make_user: Any) -> None:
    make_user("ada", staff=True)
    browser = Client(enforce_csrf_checks=True)
    credentials = {"u": "ada", "p": PASSWORD}

    refused = gql_post(browser, LOGIN, credentials)
    assert refused.status_code == 403
    assert code_of(refused.json()) == "CSRF_FAILED"
    assert gql_post(browser, ME).json() == {"data": {"me": None}}

    answer = gql_post(browser, "{ csrf_token }")
    token = answer.json()["data"]["csrf_token"]
    assert answer.status_code == 200 and browser.cookies["csrftoken"].value
    assert gql_post(browser, LOGIN, credentials, HTTP_X_CSRFTOKEN="wrong" * 6).status_code == 403

    logged_in = gql_post(browser, LOGIN, credentials, HTTP_X_CSRFTOKEN=token)
    assert logged_in.status_code == 200
    assert logged_in.json() == {"data": {"login": {"user": {"username": "ada",
                                                            "is_staff": True}}}}
    assert "sessionid" in browser.cookies
    me = gql_post(browser, ME).json()["data"]["me"]
    assert (me["username"], me["email"], me["is_staff"], me["is_superuser"]) == (
        "ada", "ada@example.com", True, False)
    assert "password" not in json.dumps(me)

    # Django rotates the CSRF token at login: the old one no longer works.
    assert gql_post(browser, "mutation { logout }", HTTP_X_CSRFTOKEN=token).status_code == 403
    fresh = gql_post(browser, "{ csrf_token }").json()["data"]["csrf_token"]
    out = gql_post(browser, "mutation { logout }", HTTP_X_CSRFTOKEN=fresh)
    assert out.json() == {"data": {"logout": True}}
    assert gql_post(browser, ME).json() == {"data": {"me": None}}


def test_csrf_protects_every_cookie_authenticated_mutation(make_user: Any) -> None:
    user = make_user("editor", actions=("view", "add"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    create = 'mutation { create_tag(data: {name: "t"}) { ok } }'
    refused = gql_post(browser, create)
    assert refused.status_code == 403 and code_of(refused.json()) == "CSRF_FAILED"
    assert not Tag.objects.exists()
    # Queries need no token; mutations never run over GET.
    assert gql_post(browser, "{ tag_count }").json() == {"data": {"tag_count": 0}}
    assert browser.get("/graphql", {"query": create}).status_code == 405
    token = gql_post(browser, "{ csrf_token }").json()["data"]["csrf_token"]
    assert gql_post(browser, create, HTTP_X_CSRFTOKEN=token).json() == {
        "data": {"create_tag": {"ok": True}}}
    # An Authorization header that is not a bearer token does not lift CSRF.
    basic = gql_post(browser, create, HTTP_AUTHORIZATION="Basic YWRhOnB3")
    assert basic.status_code == 403
    assert Tag.objects.count() == 1


# -- bearer tokens over HTTP ---------------------------------------------------------------
def issue(gql: GraphQLClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    result = gql(TOKEN_AUTH, {"u": username, "p": password})
    assert "errors" not in result, result
    return result["data"]["token_auth"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def backdated(token: str, seconds: int) -> str:
    """The same token, signed as if issued ``seconds`` ago (Django's signing, not ours)."""
    payload = signing.loads(token, salt=tokens.SALT)

    class Past(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - seconds)

    return Past(salt=tokens.SALT).sign_object(payload)


def test_token_auth_then_bearer_requests_without_csrf(gql: GraphQLClient,
                                                      make_user: Any) -> None:
    make_user("ada", actions=("view", "add"))
    before = time.time()
    answer = issue(gql, "ada")
    after = time.time()
    assert answer["user"] == {"username": "ada"}
    assert before + 3600 <= answer["expires_at"] <= after + 3600  # TOKEN_MAX_AGE default
    api = Client(enforce_csrf_checks=True)
    me = gql_post(api, "{ me { username } }", **bearer(answer["token"]))
    assert me.json() == {"data": {"me": {"username": "ada"}}}
    # A scheme in any case; no cookie and no CSRF token needed for a bearer request.
    created = gql_post(api, 'mutation { create_tag(data: {name: "t"}) { ok } }',
                       HTTP_AUTHORIZATION=f"bearer {answer['token']}")
    assert created.json() == {"data": {"create_tag": {"ok": True}}}
    assert "sessionid" not in api.cookies


@pytest.mark.parametrize("case", ["garbage", "tampered signature", "tampered payload",
                                  "other salt", "expired", "password changed",
                                  "deactivated", "deleted"])
def test_bad_tokens_are_rejected_with_401(gql: GraphQLClient, make_user: Any,
                                          case: str) -> None:
    ada = make_user("ada", actions=("view",))
    bob = make_user("bob")
    token = issue(gql, "ada")["token"]
    if case == "garbage":
        token = "not-a-token"
    elif case == "tampered signature":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif case == "tampered payload":
        _, stamp, signature = token.rsplit(":", 2)
        other = signing.dumps({"u": str(bob.pk), "h": "0" * 16}, salt=tokens.SALT)
        token = ":".join([other.rsplit(":", 2)[0], stamp, signature])
    elif case == "other salt":
        token = signing.dumps(signing.loads(token, salt=tokens.SALT), salt="something else")
    elif case == "expired":
        token = backdated(token, 3601)
    elif case == "password changed":
        ada.set_password("another-long-password")
        ada.save()
    elif case == "deactivated":
        ada.is_active = False
        ada.save()
    elif case == "deleted":
        ada.delete()
    response = gql_post(Client(), "{ me { username } }", **bearer(token))
    assert response.status_code == 401, case
    body = response.json()
    assert code_of(body) == "UNAUTHENTICATED" and "data" not in body
    reason = body["errors"][0]["message"]
    if case == "expired":
        assert "expired" in reason
    # Mutations too, and nothing runs.
    response = gql_post(Client(), 'mutation { create_tag(data: {name: "x"}) { ok } }',
                        **bearer(token))
    assert response.status_code == 401 and not Tag.objects.exists()


def test_a_token_just_within_its_age_still_works(gql: GraphQLClient, make_user: Any) -> None:
    make_user("ada")
    token = backdated(issue(gql, "ada")["token"], 3500)
    assert gql_post(Client(), "{ me { username } }", **bearer(token)).json() == {
        "data": {"me": {"username": "ada"}}}
    with override_settings(API_GRAPHQL={"TOKEN_MAX_AGE": 60}):
        assert gql_post(Client(), "{ me { username } }", **bearer(token)).status_code == 401


def test_refresh_token(gql: GraphQLClient, make_user: Any) -> None:
    make_user("ada")
    old = backdated(issue(gql, "ada")["token"], 3000)
    refreshed = gql_post(Client(), "mutation { refresh_token { token expires_at "
                                   "user { username } } }", **bearer(old)).json()
    payload = refreshed["data"]["refresh_token"]
    assert payload["user"] == {"username": "ada"} and payload["token"] != old
    assert payload["expires_at"] >= time.time() + 3500
    assert gql_post(Client(), "{ me { username } }", **bearer(payload["token"])).json() == {
        "data": {"me": {"username": "ada"}}}
    # An expired token cannot be refreshed, and nobody refreshes without credentials.
    expired = gql_post(Client(), "mutation { refresh_token { token } }",
                       **bearer(backdated(old, 4000)))
    assert expired.status_code == 401
    anonymous = gql("mutation { refresh_token { token } }")
    assert anonymous.get("data") is None and code_of(anonymous) == "UNAUTHENTICATED"


def test_a_bearer_token_beats_the_session_cookie(gql_as: Any, make_user: Any) -> None:
    """A request with a session cookie and a token acts as the token's user."""
    ada, bob = make_user("ada"), make_user("bob")
    browser = gql_as(ada)
    token = tokens.issue(bob)[0]
    assert browser("{ me { username } }") == {"data": {"me": {"username": "ada"}}}
    assert browser("{ me { username } }", HTTP_AUTHORIZATION=f"Bearer {token}") == {
        "data": {"me": {"username": "bob"}}}


# -- login throttling --------------------------------------------------------------------
def attempt(client: Client, username: str, password: str, address: str = "127.0.0.1",
            query: str = LOGIN) -> dict[str, Any]:
    response = gql_post(client, query, {"u": username, "p": password}, REMOTE_ADDR=address)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def without_numbers(body: dict[str, Any]) -> str:
    return re.sub(r"\d+", "N", json.dumps(body, sort_keys=True))


def test_failed_logins_do_not_reveal_whether_the_username_exists(make_user: Any) -> None:
    make_user("ada")
    client = Client()
    unknown = attempt(client, "nobody-by-this-name", "whatever", "10.0.0.1")
    wrong = attempt(client, "ada", "wrong-password", "10.0.0.2")
    assert unknown == wrong
    assert unknown.get("data") is None
    assert unknown["errors"][0]["message"] == "Invalid username or password."
    # Once throttled, the two answers are still the same (up to the seconds to wait).
    for address in range(3, 10):
        attempt(client, "nobody-by-this-name", "whatever", f"10.0.0.{address}")
        attempt(client, "ada", "wrong-password", f"10.0.1.{address}")
    unknown = attempt(client, "nobody-by-this-name", "whatever", "10.0.2.1")
    wrong = attempt(client, "ada", PASSWORD, "10.0.2.2")  # even the right password
    assert code_of(unknown) == code_of(wrong) == "LIMIT_EXCEEDED"
    assert without_numbers(unknown) == without_numbers(wrong)


def test_login_attempts_per_username(make_user: Any) -> None:
    """LOGIN_ATTEMPTS (5) failures for one username, from anywhere, lock it for
    LOGIN_WINDOW; other usernames are unaffected."""
    make_user("ada")
    make_user("bob")
    client = Client()
    for n in range(5):
        assert code_of(attempt(client, "ada", "wrong", f"10.1.0.{n}")) == "BAD_USER_INPUT"
    locked = attempt(client, "ADA", PASSWORD, "10.1.1.1")  # usernames compare lowercased
    assert code_of(locked) == "LIMIT_EXCEEDED"
    assert 0 < locked["errors"][0]["extensions"]["retry_after"] <= 300 + 1
    locked = attempt(client, "ada", PASSWORD, "10.1.1.1")
    assert code_of(locked) == "LIMIT_EXCEEDED" and locked.get("data") is None
    ok = attempt(client, "bob", PASSWORD, "10.1.1.2")
    assert ok["data"]["login"]["user"]["username"] == "bob"
    # Tokens are throttled the same way.
    assert code_of(attempt(client, "ada", PASSWORD, "10.1.1.3", TOKEN_AUTH)) == "LIMIT_EXCEEDED"


def test_login_attempts_per_address(make_user: Any) -> None:
    make_user("ada")
    client = Client()
    for n in range(5):
        attempt(client, f"guess{n}", "wrong", "10.2.0.1")
    assert code_of(attempt(client, "ada", PASSWORD, "10.2.0.1")) == "LIMIT_EXCEEDED"
    ok = attempt(client, "ada", PASSWORD, "10.2.0.2")
    assert ok["data"]["login"]["user"]["username"] == "ada"


def test_a_success_clears_the_username_count(make_user: Any) -> None:
    make_user("ada")
    client = Client()
    for n in range(4):
        attempt(client, "ada", "wrong", f"10.3.0.{n}")
    assert "errors" not in attempt(client, "ada", PASSWORD, "10.3.1.0")
    for n in range(4):
        attempt(client, "ada", "wrong", f"10.3.2.{n}")
    assert "errors" not in attempt(client, "ada", PASSWORD, "10.3.3.0")


def test_the_login_limit_is_configurable(make_user: Any) -> None:
    make_user("ada")
    client = Client()
    with override_settings(API_GRAPHQL={"LOGIN_ATTEMPTS": 2}):
        attempt(client, "ada", "wrong", "10.4.0.1")
        attempt(client, "ada", "wrong", "10.4.0.2")
        assert code_of(attempt(client, "ada", PASSWORD, "10.4.0.3")) == "LIMIT_EXCEEDED"


def test_an_inactive_user_cannot_log_in(make_user: Any) -> None:
    user = make_user("ada")
    user.is_active = False
    user.save()
    assert attempt(Client(), "ada", PASSWORD)["errors"][0]["message"] == (
        "Invalid username or password.")


# -- over WebSocket, against real daphne processes -------------------------------------------
class Browser:
    """A cookie-keeping HTTP client for a daphne child (what a browser does)."""

    def __init__(self, server: DaphneServer) -> None:
        self.url = server.http + "/graphql"
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def post(self, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url, json.dumps({"query": query, "variables": variables}).encode(),
            {"Content-Type": "application/json", **(headers or {})}, method="POST")
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def mutate(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        if self.cookie("csrftoken") is None:
            self.post("{ csrf_token }")
        status, body = self.post(query, variables, {"X-CSRFToken": self.cookie("csrftoken") or ""})
        assert status == 200, body
        return body

    def session_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.jar)}


@pytest.fixture(scope="module")
def server(django_db_setup: Any) -> Iterator[DaphneServer]:
    started = DaphneServer().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def short_server(django_db_setup: Any) -> Iterator[DaphneServer]:
    started = DaphneServer(DJANGO_SETTINGS_MODULE="tests.settings_short_tokens",
                           TEST_TOKEN_MAX_AGE="3").start()
    yield started
    started.stop()


async def run_query(socket: GraphQLSocket, op_id: str, query: str,
                    variables: dict[str, Any] | None = None) -> Any:
    await socket.subscribe(op_id, query, variables)
    message = await socket.next_for(op_id)
    assert message["type"] == "next", message
    done = await socket.next_for(op_id)
    assert done["type"] == "complete", done
    return message["payload"]


async def rejected(url: str, init: dict[str, Any]) -> tuple[int | None, str]:
    socket = await GraphQLSocket.open(url, acknowledge=False)
    await socket.send({"type": "connection_init", "payload": init})
    return await socket.closed()


def token_from(server: DaphneServer, username: str) -> dict[str, Any]:
    body = Browser(server).mutate(TOKEN_AUTH, {"u": username, "p": PASSWORD})
    assert "errors" not in body, body
    return body["data"]["token_auth"]  # type: ignore[no-any-return]


@pytest.mark.django_db(transaction=True)
def test_websocket_token_in_connection_init(server: DaphneServer, make_user: Any) -> None:
    make_user("ada", actions=("view",))
    token = token_from(server, "ada")["token"]

    async def scenario() -> None:
        authenticated = await GraphQLSocket.open(
            server.ws, init={"authorization": f"Bearer {token}"})
        anonymous = await GraphQLSocket.open(server.ws)
        assert await run_query(authenticated, "1", "{ me { username } }") == {
            "data": {"me": {"username": "ada"}}}
        assert await run_query(anonymous, "1", "{ me { username } }") == {"data": {"me": None}}
        # The token's rights apply to reads over the socket.
        assert await run_query(authenticated, "2", "{ user_count }") == {
            "data": {"user_count": 0}}
        refused = await run_query(anonymous, "2", "{ user_count }")
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        await authenticated.close()
        await anonymous.close()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_websocket_rejects_bad_and_expired_tokens_with_4403(server: DaphneServer,
                                                            make_user: Any) -> None:
    make_user("ada")
    token = token_from(server, "ada")["token"]

    async def scenario() -> None:
        code, reason = await rejected(server.ws, {"authorization": "Bearer not-a-token"})
        assert (code, reason) == (4403, "Forbidden: invalid token")
        code, reason = await rejected(server.ws, {"authorization": f"Bearer {token[:-2]}xx"})
        assert (code, reason) == (4403, "Forbidden: invalid token")
        code, reason = await rejected(server.ws,
                                      {"authorization": f"Bearer {backdated(token, 7200)}"})
        assert (code, reason) == (4403, "Forbidden: token expired")
        # The same token, fresh, is fine.
        fine = await GraphQLSocket.open(server.ws, init={"authorization": f"Bearer {token}"})
        assert await run_query(fine, "1", "{ me { username } }") == {
            "data": {"me": {"username": "ada"}}}
        await fine.close()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_a_socket_whose_token_expires_is_closed_with_4403(short_server: DaphneServer,
                                                          make_user: Any) -> None:
    make_user("ada")
    answer = token_from(short_server, "ada")
    assert answer["expires_at"] - time.time() <= 3  # the child's TOKEN_MAX_AGE

    async def scenario() -> None:
        socket = await GraphQLSocket.open(short_server.ws,
                                          init={"authorization": f"Bearer {answer['token']}"})
        await socket.subscribe("1", "{ me { username } }")
        first = await socket.next_for("1")
        # Authenticated while the token is valid, then closed when it expires.
        assert first["type"] == "next" and first["payload"]["data"]["me"] == {
            "username": "ada"}, first
        code, reason = await socket.closed(timeout=20)
        assert (code, reason) == (4403, "Forbidden: token expired")

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_logging_out_the_session_closes_its_sockets_with_4403(server: DaphneServer,
                                                              make_user: Any) -> None:
    make_user("ada")
    make_user("bob")
    ada, bob = Browser(server), Browser(server)
    for browser, name in ((ada, "ada"), (bob, "bob")):
        body = browser.mutate(LOGIN, {"u": name, "p": PASSWORD})
        assert body["data"]["login"]["user"]["username"] == name
        assert browser.cookie("sessionid")

    async def scenario() -> None:
        ada_socket = await GraphQLSocket.open(server.ws, additional_headers=ada.session_header())
        bob_socket = await GraphQLSocket.open(server.ws, additional_headers=bob.session_header())
        assert await run_query(ada_socket, "1", "{ me { username } }") == {
            "data": {"me": {"username": "ada"}}}
        assert await run_query(bob_socket, "1", "{ me { username } }") == {
            "data": {"me": {"username": "bob"}}}
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, ada.mutate, "mutation { logout }")
        assert body == {"data": {"logout": True}}
        assert await ada_socket.closed(timeout=15) == (4403, "Forbidden: logged out")
        # Another session's socket stays open and authenticated.
        assert await run_query(bob_socket, "2", "{ me { username } }") == {
            "data": {"me": {"username": "bob"}}}
        await bob_socket.close()

    asyncio.run(scenario())


@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="in memory, no layer reaches another process")
@pytest.mark.django_db(transaction=True)
def test_a_logout_in_a_process_without_a_hub_closes_the_sockets_on_the_server(
        server: DaphneServer, make_user: Any) -> None:
    """A shell, a worker or another site logs the session out: this test process has no
    hub, so the server hears of it only over the channel layer (publisher.session_ended)."""
    user = make_user("ada")
    ada = Browser(server)
    assert ada.mutate(LOGIN, {"u": "ada", "p": PASSWORD})["data"]["login"]["user"] == {
        "username": "ada", "is_staff": False}
    key = ada.cookie("sessionid")
    assert key

    def log_out() -> None:
        request = HttpRequest()
        request.session = SessionStore(session_key=key)
        request.user = user
        try:
            logout(request)
        finally:
            connections.close_all()  # this thread's connection would outlive the test

    async def scenario() -> None:
        socket = await GraphQLSocket.open(server.ws, additional_headers=ada.session_header())
        assert await run_query(socket, "1", "{ me { username } }") == {
            "data": {"me": {"username": "ada"}}}
        await sync_to_async(log_out)()
        assert await socket.closed(timeout=15) == (4403, "Forbidden: logged out")

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_websocket_login_throttle_is_per_client(make_user: Any) -> None:
    make_user("ada")

    async def scenario(url: str) -> None:
        attacker = await GraphQLSocket.open(url, local_addr=("127.0.0.2", 0))
        for n in range(5):
            failed = await run_query(attacker, str(n), LOGIN, {"u": f"guess{n}", "p": "x"})
            assert failed["errors"][0]["message"] == "Invalid username or password."
        await attacker.close()
        user = await GraphQLSocket.open(url, local_addr=("127.0.0.3", 0))
        answer = await run_query(user, "1", LOGIN, {"u": "ada", "p": PASSWORD})
        await user.close()
        assert answer == {"data": {"login": {"user": {"username": "ada", "is_staff": False}}}}

    # A server of its own: the throttle it fills lives in that process's cache.
    with daphne() as own:
        asyncio.run(scenario(own.ws))
