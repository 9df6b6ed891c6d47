"""Cache hits on the event loop (api_graphql.asgi), through real daphne processes: the
same answers and headers as Django's path, read-your-writes across workers by the
consistency cursor, and authentication exact (logout, password change, CSRF)."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from api_graphql import tokens
from myproject.models import Article, User
from tests.conftest import PASSWORD
from tests.servers import DaphneServer, daphne, run_shell
from tests.test_auth import LOGIN, Browser

pytestmark = pytest.mark.django_db(transaction=True)
LOOP = "tests.settings_loop_path"
QUERY = "{ article_list(ordering: [{id: ASC}]) { title } }"
#: Without Redis no process hears the others' changes: every request takes Django's path.
STREAM = bool(os.environ.get("REDIS_URL"))
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                    "Cross-Origin-Opener-Policy", "X-Request-Tag", "Content-Type", "Vary")


def post(server: DaphneServer, query: str, variables: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        server.http + "/graphql", json.dumps({"query": query, "variables": variables}).encode(),
        {"Content-Type": "application/json", **(headers or {})}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def loop_answers(server: DaphneServer, caller: str | None = None) -> int:
    """Answers served on the loop, by ``caller`` (anonymous, session, bearer) or all."""
    with urllib.request.urlopen(server.http + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.findall(r'^graphql_loop_path_answers_total\{caller="(\w+)"\} (\d+)', text, re.M)
    assert len(found) == 3, text
    return sum(int(count) for name, count in found if caller in (None, name))


def until_on_loop(server: DaphneServer, caller: str, ask: Any, times: int = 3) -> list[Any]:
    """Ask until ``times`` answers were served on the loop for ``caller``; every answer.
    The loop path starts once the process hears the stream (its hub starts on the first
    hit): poll, under load that can take a while."""
    answers = [ask() for _ in range(times + 2)]
    deadline = time.monotonic() + 60
    while STREAM and loop_answers(server, caller) < times:
        assert time.monotonic() < deadline, f"no {caller} hit was answered on the loop"
        answers.append(ask())
    return answers


def titles(body: Any) -> list[str]:
    return [row["title"] for row in body["data"]["article_list"]]


@pytest.fixture
def articles() -> list[Article]:
    author = User.objects.create(email="ada@example.com", username="ada")
    return [Article.objects.create(title=t, content="c", author=author, published=p)
            for t, p in (("One", True), ("Draft", False))]


def test_hits_are_answered_on_the_loop_with_djangos_headers(articles: list[Article]) -> None:
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as server:
        answers = until_on_loop(server, "anonymous", lambda: post(server, QUERY))
        assert all(status == 200 for status, _, _ in answers)
        assert all(titles(body) == ["One"] for _, _, body in answers)  # anonymous: published
        first = {name: answers[0][1].get(name) for name in SECURITY_HEADERS}
        assert first["X-Content-Type-Options"] == "nosniff" and first["X-Request-Tag"] == "seen"
        for _, headers, _ in answers[1:]:
            assert {name: headers.get(name) for name in SECURITY_HEADERS} == first
        if not STREAM:
            assert loop_answers(server) == 0


def test_signed_in_hits_are_answered_on_the_loop_as_that_user(
        articles: list[Article], make_user: Any) -> None:
    """A session cookie and a bearer token: each user's own answer, with the headers
    Django's path gives that kind of request (a session read adds Vary: Cookie)."""
    make_user("root", superuser=True)
    reader = make_user("reader")
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as server:
        browser = Browser(server)
        browser.mutate(LOGIN, {"u": "root", "p": PASSWORD})
        cookie = browser.session_header()
        by_session = until_on_loop(server, "session", lambda: post(server, QUERY, headers=cookie))
        bearer = {"Authorization": f"Bearer {tokens.issue(reader)[0]}"}
        by_token = until_on_loop(server, "bearer", lambda: post(server, QUERY, headers=bearer))
        assert all(titles(body) == ["One", "Draft"] for _, _, body in by_session)
        assert all(titles(body) == ["One"] for _, _, body in by_token)  # no view permission
        for answers in (by_session, by_token):
            first = {name: answers[0][1].get(name) for name in SECURITY_HEADERS}
            assert first["X-Frame-Options"] == "DENY" and first["X-Request-Tag"] == "seen"
            for _, headers, _ in answers[1:]:
                assert {name: headers.get(name) for name in SECURITY_HEADERS} == first
            assert all("Set-Cookie" not in headers for _, headers, _ in answers)
        assert "Cookie" in by_session[-1][1]["Vary"]
        # Many requests at once with one token share identity checks: each is still
        # answered as its user, and on the loop.
        before = loop_answers(server, "bearer")
        with ThreadPoolExecutor(16) as pool:
            burst = list(pool.map(lambda _: post(server, QUERY, headers=bearer), range(48)))
        assert all(status == 200 and titles(body) == ["One"] for status, _, body in burst)
        assert loop_answers(server, "bearer") > before or not STREAM
        # Anonymous requests on the same worker still get the anonymous answer.
        assert titles(post(server, QUERY)[2]) == ["One"]
        # A forged or unknown session key is nobody: Django's path answers as anonymous.
        assert titles(post(server, QUERY, headers={"Cookie": "sessionid=forged0000"})[2]) == [
            "One"]


def test_middleware_that_does_not_declare_itself_runs_for_every_request(
        articles: list[Article]) -> None:
    """tests.settings' RequestTagMiddleware has no ``graphql_loop_path``: Django's path."""
    with daphne(DJANGO_SETTINGS_MODULE="tests.settings_stream_cache") as server:
        for _ in range(4):
            status, headers, body = post(server, QUERY)
            assert status == 200 and headers["X-Request-Tag"] == "seen" and titles(body) == ["One"]
        assert loop_answers(server) == 0


def test_a_write_on_one_worker_is_read_at_once_on_another_with_the_cursor(
        articles: list[Article], make_user: Any) -> None:
    root = make_user("root", superuser=True)
    auth = {"Authorization": f"Bearer {tokens.issue(root)[0]}"}
    update = ('mutation($pk: ID!, $t: String) { update_article(pk: $pk, data: {title: $t}) '
              "{ ok } }")
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as writer, \
            daphne(DJANGO_SETTINGS_MODULE=LOOP) as reader:
        for title in ("Two", "Three", "Four"):
            for _ in range(3):
                post(reader, QUERY)  # cached, then answered on the loop
            status, headers, body = post(writer, update, {"pk": str(articles[0].pk), "t": title},
                                         headers=auth)
            assert status == 200 and body["data"]["update_article"]["ok"], body
            cursor = headers["X-Consistency-Cursor"]
            assert re.fullmatch(r"[\w.]+:\d+(,[\w.]+:\d+)*", cursor), cursor
            assert "myproject.article:" in cursor
            _, _, fresh = post(reader, QUERY, headers={"X-Consistency-Cursor": cursor})
            assert titles(fresh) == [title]


def test_logout_password_change_and_revoked_permission_count_at_once_on_another_worker(
        articles: list[Article], make_user: Any) -> None:
    """Signed in on one worker, reading on another from the loop: a logout, a password
    change (by another process) and a removed permission count on the next request."""
    make_user("root", superuser=True)
    staff = make_user("staff", actions=("view",))
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as writer, \
            daphne(DJANGO_SETTINGS_MODULE=LOOP) as reader:
        browser = Browser(writer)
        browser.mutate(LOGIN, {"u": "root", "p": PASSWORD})
        old_session = browser.session_header()
        served = until_on_loop(reader, "session", lambda: post(reader, QUERY, headers=old_session))
        assert all(titles(body) == ["One", "Draft"] for _, _, body in served)
        assert browser.mutate("mutation { logout }") == {"data": {"logout": True}}
        # The old cookie, sent again at once to the other worker, is anonymous now.
        assert titles(post(reader, QUERY, headers=old_session)[2]) == ["One"]

        bearer = {"Authorization": f"Bearer {tokens.issue(_user('root'))[0]}"}
        served = until_on_loop(reader, "bearer", lambda: post(reader, QUERY, headers=bearer))
        assert all(titles(body) == ["One", "Draft"] for _, _, body in served)
        run_shell("from django.contrib.auth import get_user_model\n"
                  "u = get_user_model().objects.get(username='root')\n"
                  "u.set_password('another-long-password'); u.save()")
        status, _, body = post(reader, QUERY, headers=bearer)
        assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        staff_bearer = {"Authorization": f"Bearer {tokens.issue(staff)[0]}"}
        before = loop_answers(reader, "bearer")
        served = until_on_loop(reader, "bearer", lambda: post(reader, QUERY, headers=staff_bearer),
                               times=before + 3)
        assert all(titles(body) == ["One", "Draft"] for _, _, body in served)
        run_shell(f"from django.contrib.auth import get_user_model\n"
                  f"get_user_model().objects.get(pk={staff.pk}).user_permissions.clear()")
        assert titles(post(reader, QUERY, headers=staff_bearer)[2]) == ["One"]


def test_cookie_authenticated_mutations_need_the_csrf_token(articles: list[Article],
                                                            make_user: Any) -> None:
    make_user("root", superuser=True)
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as server:
        browser = Browser(server)
        browser.mutate(LOGIN, {"u": "root", "p": PASSWORD})
        pk = articles[0].pk
        update = f'mutation {{ update_article(pk: {pk}, data: {{title: "X"}}) {{ ok }} }}'
        status, body = browser.post(update)
        assert status == 403 and body["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
        assert Article.objects.get(pk=articles[0].pk).title == "One"


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.get(username=username)
