"""realtime.daphne_wire's guard: outside the tested releases daphne's stock path serves."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import pytest

from myproject.models import Article, User
from realtime import daphne_wire
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
    finally:
        process.terminate()
        process.wait(10)
    text = log.read_text()
    assert text.count("daphne's stock WebSocket path serves") == 1, text
    assert "autobahn 99.0 (tested: 26.11 to below 27)" in text
