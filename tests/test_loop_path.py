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


def loop_answers(server: DaphneServer) -> int:
    with urllib.request.urlopen(server.http + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(r"^graphql_loop_path_answers_total (\d+)", text, re.M)
    assert found, text
    return int(found.group(1))


def titles(body: Any) -> list[str]:
    return [row["title"] for row in body["data"]["article_list"]]


@pytest.fixture
def articles() -> list[Article]:
    author = User.objects.create(email="ada@example.com", username="ada")
    return [Article.objects.create(title=t, content="c", author=author, published=p)
            for t, p in (("One", True), ("Draft", False))]


def test_hits_are_answered_on_the_loop_with_djangos_headers(articles: list[Article]) -> None:
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as server:
        answers = [post(server, QUERY) for _ in range(6)]
        # The loop path starts once the process hears the stream (its hub starts on the
        # first hit): poll, under load that can take a while.
        deadline = time.monotonic() + 60
        while STREAM and loop_answers(server) < 3:
            assert time.monotonic() < deadline, "no hit was answered on the loop"
            answers.append(post(server, QUERY))
        assert all(status == 200 for status, _, _ in answers)
        assert all(titles(body) == ["One"] for _, _, body in answers)  # anonymous: published
        first = {name: answers[0][1].get(name) for name in SECURITY_HEADERS}
        assert first["X-Content-Type-Options"] == "nosniff" and first["X-Request-Tag"] == "seen"
        for _, headers, _ in answers[1:]:
            assert {name: headers.get(name) for name in SECURITY_HEADERS} == first
        if not STREAM:
            assert loop_answers(server) == 0


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


def test_logout_and_password_change_take_effect_at_once(articles: list[Article],
                                                        make_user: Any) -> None:
    make_user("root", superuser=True)
    with daphne(DJANGO_SETTINGS_MODULE=LOOP) as server:
        browser = Browser(server)
        browser.mutate(LOGIN, {"u": "root", "p": PASSWORD})
        old_session = browser.session_header()
        for _ in range(3):
            assert titles(post(server, QUERY, headers=old_session)[2]) == ["One", "Draft"]
            assert titles(post(server, QUERY)[2]) == ["One"]
        assert browser.mutate("mutation { logout }") == {"data": {"logout": True}}
        # The old cookie, sent again at once, is anonymous now: no cached staff answer.
        assert titles(post(server, QUERY, headers=old_session)[2]) == ["One"]

        token = tokens.issue(_root())[0]
        bearer = {"Authorization": f"Bearer {token}"}
        assert titles(post(server, QUERY, headers=bearer)[2]) == ["One", "Draft"]
        run_shell("from django.contrib.auth import get_user_model\n"
                  "u = get_user_model().objects.get(username='root')\n"
                  "u.set_password('another-long-password'); u.save()")
        status, _, body = post(server, QUERY, headers=bearer)
        assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


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


def _root() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.get(username="root")
