"""realtime.daphne_wire's guard: outside the tested releases daphne's stock path serves."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from typing import Any

import pytest

from myproject.models import Article, User
from realtime import daphne_wire
from tests.conftest import PASSWORD
from tests.servers import ROOT, child_environment, free_port, graphql_post
from tests.ws_client import GraphQLSocket

pytestmark = pytest.mark.django_db(transaction=True)

#: daphne as ``python -m daphne`` runs it, told autobahn is a release nobody tested.
UNTESTED_AUTOBAHN = """
import sys
from importlib import metadata
real = metadata.version
metadata.version = lambda name: "99.0" if name.lower() == "autobahn" else real(name)
sys.argv = ["daphne", "-b", "127.0.0.1", "-p", sys.argv[1], "myproject.asgi:application"]
from daphne.cli import CommandLineInterface
CommandLineInterface.entrypoint()
"""


def test_the_installed_releases_are_the_tested_ones() -> None:
    assert daphne_wire.unsupported() == []
    assert daphne_wire._enabled


def test_an_untested_release_gets_the_stock_path_with_one_warning(tmp_path: Any) -> None:
    port = free_port()
    log = tmp_path / "daphne.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", UNTESTED_AUTOBAHN, str(port)],
                                   cwd=ROOT, env=child_environment(), stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if graphql_post(f"http://127.0.0.1:{port}/graphql", "{ __typename }",
                                timeout=2) == {"data": {"__typename": "Query"}}:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        author = User.objects.create(email="w@example.com", username="w")

        async def scenario() -> dict[str, Any]:
            socket = await GraphQLSocket.open(f"ws://127.0.0.1:{port}/graphql")
            await socket.subscribe("a", "subscription { article_changes { op node { title } } }")
            assert (await socket.event("a", "article_changes"))["op"] == "READY"
            await asyncio.to_thread(Article.objects.create, title="stock", content="",
                                    author=author, published=True)
            change = await socket.event("a", "article_changes", timeout=30)
            await socket.close()
            return change

        assert asyncio.run(scenario()) == {"op": "CREATED", "node": {"title": "stock"}}
        status, body = not_multipart(f"http://127.0.0.1:{port}/graphql")
        assert status == 400 and not body.startswith(b"{"), body  # Twisted's own answer
    finally:
        process.terminate()
        process.wait(10)
    text = log.read_text()
    assert text.count("daphne's stock WebSocket path serves") == 1, text
    assert "autobahn 99.0 (tested: 26.11 to below 27)" in text


def not_multipart(url: str) -> tuple[int, bytes]:
    """A POST claiming multipart/form-data whose body is not."""
    request = urllib.request.Request(url, b"garbage that is not multipart", {
        "Content-Type": "multipart/form-data; boundary=xyz"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_form_posts_reach_django_whole_without_twisted_parsing_them(make_user: Any) -> None:
    """Daphne's requests skip Twisted's form parsing (request.args, never read): Django
    gets the whole body. A broken multipart body is Django's (a GraphQL error), not
    Twisted's bare 400 and disconnect (the stock path's, in the test above); a form
    still posts whole (the admin's login)."""
    from tests.servers import daphne

    make_user("root", superuser=True)
    with daphne() as server:
        status, body = not_multipart(server.http + "/graphql")
        assert status == 400
        assert json.loads(body)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(server.http + "/admin/login/", timeout=10) as page:
            html = page.read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token, html[:500]
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "username": "root",
                                       "password": PASSWORD, "next": "/admin/"}).encode()
        request = urllib.request.Request(server.http + "/admin/login/", form, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": server.http + "/admin/login/"})
        with opener.open(request, timeout=10) as landed:
            assert landed.url.endswith("/admin/")
            assert "Site administration" in landed.read().decode()
        assert any(cookie.name == "sessionid" for cookie in jar)
