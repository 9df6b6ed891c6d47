"""GraphQL over HTTP: GET and POST, GraphiQL, the project's middleware, and a real daphne
serving the API and the unchanged admin from one process."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from django.test import Client

from myproject.models import Article, User
from tests.conftest import PASSWORD
from tests.servers import daphne, graphql_post


@pytest.mark.django_db
def test_get_runs_queries_with_variables(make_user: Any) -> None:
    author = User.objects.create(email="a@example.com", username="a")
    Article.objects.create(title="Hello", content="c", author=author, published=True)
    response = Client().get("/graphql", {
        "query": "query($p: Boolean) { article_list(filters: {published: {exact: $p}}) "
                 "{ title } }",
        "variables": json.dumps({"p": True}),
    })
    assert response.status_code == 200
    assert response.json() == {"data": {"article_list": [{"title": "Hello"}]}}


@pytest.mark.django_db
def test_graphiql_page_uses_only_local_assets() -> None:
    response = Client().get("/graphql", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="graphiql"' in page
    sources = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)
    assert len(sources) == 6 and all(s.startswith("/static/") for s in sources), sources
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_graphiql_says_who_may_load_the_docs(make_user: Any) -> None:
    """The Docs panel needs introspection (staff by default): others are told how to get it."""
    anonymous = Client().get("/graphql", HTTP_ACCEPT="text/html").content.decode()
    assert 'class="introspection-note"' in anonymous
    assert 'href="/admin/login/?next=/graphql"' in anonymous
    staff = Client()
    staff.force_login(make_user("staffer", staff=True))
    page = staff.get("/graphql", HTTP_ACCEPT="text/html").content.decode()
    assert 'class="introspection-note"' not in page


@pytest.mark.django_db
def test_the_projects_own_middleware_runs_for_graphql() -> None:
    response = Client().post("/graphql", {"query": "{ __typename }"},
                             content_type="application/json")
    assert response["X-Request-Tag"] == "seen"  # tests.testapp.middleware
    assert response["X-Frame-Options"] == "DENY"  # Django's clickjacking middleware


@pytest.mark.django_db(transaction=True)
def test_daphne_serves_graphql_graphiql_and_the_admin(make_user: Any) -> None:
    make_user("root", superuser=True)
    author = User.objects.create(email="a@example.com", username="ada")
    article = Article.objects.create(title="Served", content="c", author=author,
                                     published=True)
    with daphne() as server:
        answer = graphql_post(server.http + "/graphql", "{ article_list { title } }")
        assert answer == {"data": {"article_list": [{"title": "Served"}]}}
        # The lean ASGI handler still runs the project's middleware, CSRF included.
        raw = urllib.request.urlopen(urllib.request.Request(
            server.http + "/graphql", json.dumps({"query": "{ __typename }"}).encode(),
            {"Content-Type": "application/json"}))
        assert raw.headers["X-Request-Tag"] == "seen"
        refused = urllib.request.Request(
            server.http + "/graphql", json.dumps({"query": "mutation { logout }"}).encode(),
            {"Content-Type": "application/json", "Accept": "application/graphql-response+json"})
        with pytest.raises(urllib.error.HTTPError) as csrf:
            urllib.request.urlopen(refused)
        assert csrf.value.code == 403

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(urllib.request.Request(
            server.http + "/graphql", headers={"Accept": "text/html"})).read()
        assert b"graphiql.min.js" in page
        asset = opener.open(server.http + "/static/api_graphql/graphiql/playground.js").read()
        assert b"graphqlWs.createClient" in asset

        login_page = opener.open(server.http + "/admin/login/").read().decode()
        assert "Django administration" in login_page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
        assert token is not None
        form = urllib.parse.urlencode({
            "csrfmiddlewaretoken": token.group(1), "username": "root", "password": PASSWORD,
            "next": "/admin/",
        }).encode()
        opener.open(urllib.request.Request(server.http + "/admin/login/?next=/admin/", form,
                                           headers={"Referer": server.http + "/admin/login/"}))
        change = opener.open(
            f"{server.http}/admin/myproject/article/{article.pk}/change/").read().decode()
        assert 'value="Served"' in change and "Change article" in change
        css = opener.open(server.http + "/static/admin/css/base.css")
        assert css.status == 200


def test_schema_command_writes_sdl(tmp_path: Any) -> None:
    from django.core.management import call_command

    target = tmp_path / "schema.graphql"
    call_command("export_schema", str(target))
    sdl = target.read_text()
    assert "type Article {" in sdl and "article_changes" in sdl


@pytest.mark.django_db(transaction=True)
def test_runserver_serves_the_same_application() -> None:
    """``manage.py runserver`` (daphne's ASGI runserver) serves HTTP, WebSocket and admin."""
    import asyncio
    import subprocess
    import sys
    import time

    from tests.servers import ROOT, child_environment, free_port
    from tests.ws_client import GraphQLSocket

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=child_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = graphql_post(f"http://127.0.0.1:{port}/graphql", "{ tag_count }")
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.2)
        assert answer == {"data": {"tag_count": 0}}
        admin = urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/").read()
        assert b"Django administration" in admin

        async def subscribe() -> dict[str, Any]:
            socket = await GraphQLSocket.open(f"ws://127.0.0.1:{port}/graphql")
            await socket.subscribe("t", "subscription { tag_changes { op } }")
            ready = await socket.event("t", "tag_changes")
            await socket.close()
            return ready

        assert asyncio.run(subscribe()) == {"op": "READY"}
    finally:
        process.terminate()
        process.wait(10)
