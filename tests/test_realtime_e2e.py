"""Push, end to end: real daphne processes, real sockets, changes from every origin."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections

from api_graphql import tokens
from myproject.models import Article, Tag, User
from realtime.models import StreamPosition
from tests.conftest import PASSWORD
from tests.servers import DaphneServer, daphne, graphql_post, run_shell
from tests.ws_client import GraphQLSocket

pytestmark = pytest.mark.django_db(transaction=True)

ARTICLE_CHANGES = """subscription($f: ArticleFilter, $after: String) {
    article_changes(filters: $f, after: $after) {
        op cursor pk changed_fields node { title published author { username } } } }"""


def orm(function: Callable[[], Any]) -> Any:
    """Run ORM code from a test's event loop (and leave no connection behind)."""

    def run() -> Any:
        try:
            return function()
        finally:
            connections.close_all()

    return asyncio.to_thread(run)


def counter(server: DaphneServer, name: str) -> float:
    text = urllib.request.urlopen(server.http + "/metrics").read().decode()
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, text
    return float(match.group(1))


def shell(code: str) -> None:
    run_shell("from myproject.models import *\n" + code)


@pytest.fixture
def server() -> Iterator[DaphneServer]:
    with daphne() as running:
        yield running


@pytest.fixture
def root(make_user: Any) -> Any:
    return make_user("root", superuser=True)


@pytest.fixture
def author() -> User:
    return User.objects.create(email="ada@example.com", username="ada")


def bearer(user: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {tokens.issue(user)[0]}"}


async def subscribe(server: DaphneServer, init: dict[str, Any] | None = None,
                    filters: dict[str, Any] | None = None, after: str | None = None,
                    op_id: str = "a") -> tuple[GraphQLSocket, dict[str, Any]]:
    socket = await GraphQLSocket.open(server.ws, init=init)
    await socket.subscribe(op_id, ARTICLE_CHANGES, {"f": filters, "after": after})
    first = await socket.event(op_id, "article_changes")
    return socket, first


def admin_opener(server: DaphneServer) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(server.http + "/admin/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    opener.open(urllib.request.Request(
        server.http + "/admin/login/",
        urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1), "username": "root",
                                "password": PASSWORD, "next": "/admin/"}).encode(),
        headers={"Referer": server.http + "/admin/login/"}))
    return opener


def admin_save_title(server: DaphneServer, article: Article, title: str) -> None:
    opener = admin_opener(server)
    url = f"{server.http}/admin/myproject/article/{article.pk}/change/"
    page = opener.open(url).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    form = {"csrfmiddlewaretoken": token.group(1), "title": title, "content": article.content,
            "author": str(article.author_id), "published": "on", "_save": "Save"}
    response = opener.open(urllib.request.Request(url, urllib.parse.urlencode(form).encode(),
                                                  headers={"Referer": url}))
    assert response.status == 200


def test_changes_from_the_api_the_admin_and_a_shell_arrive(server: DaphneServer, root: Any,
                                                           author: User) -> None:
    async def scenario() -> None:
        socket, ready = await subscribe(server, init=bearer(root))
        assert ready["op"] == "READY" and ready["node"] is None
        created = await orm(lambda: graphql_post(
            server.http + "/graphql",
            'mutation($a: ID!) { create_article(data: {title: "Via API", content: "c", '
            "author: $a, published: true}) { ok pk } }", {"a": str(author.pk)},
            headers={"Authorization": bearer(root)["authorization"]}))
        pk = created["data"]["create_article"]["pk"]
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"], event["node"]) == (
            "CREATED", pk, {"title": "Via API", "published": True,
                            "author": {"username": "ada"}})
        assert int(event["cursor"]) > int(ready["cursor"])

        article = await orm(lambda: Article.objects.get(pk=pk))
        await orm(lambda: admin_save_title(server, article, "Via admin"))
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["node"]["title"], event["changed_fields"]) == (
            "UPDATED", "Via admin", ["title"])

        await orm(lambda: shell(f"Article.objects.get(pk={pk}).delete()"))
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"], event["node"]) == ("DELETED", pk, None)
        await socket.close()

    asyncio.run(scenario())


def test_filters_left_and_many_to_many(server: DaphneServer, author: User) -> None:
    async def scenario() -> None:
        # Anonymous may read published articles only (myproject/graphql.py).
        socket, ready = await subscribe(server, filters={"title": {"startswith": "News"}})
        assert ready["op"] == "READY"
        shell(f"Article.objects.create(title='Other', content='c', author_id={author.pk}, "
              "published=True)")
        shell(f"Article.objects.create(title='News draft', content='c', author_id={author.pk})")
        shell(f"a = Article.objects.create(title='News 1', content='c', author_id={author.pk},"
              " published=True)")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["node"]["title"]) == ("CREATED", "News 1")
        pk = event["pk"]
        other, _ = await subscribe(server, filters={"title": {"startswith": "Nothing"}})
        shell(f"Tag.objects.create(name='python').articles.add(Article.objects.get(pk={pk}))")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"], event["changed_fields"]) == ("UPDATED", pk, ["tags"])
        # A tag change cannot move an article out of a filter on its title: no LEFT.
        shell(f"Article.objects.create(title='Nothing new', content='c', author_id={author.pk},"
              " published=True)")
        first = await other.event("a", "article_changes")
        assert (first["op"], first["node"]["title"]) == ("CREATED", "Nothing new")
        await other.close()
        shell(f"a = Article.objects.get(pk={pk}); a.title = 'Old news'; a.save()")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"], event["node"]) == ("LEFT", pk, None)
        shell(f"a = Article.objects.get(pk={pk}); a.title = 'News again'; a.save()")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["node"]["title"]) == ("UPDATED", "News again")
        shell(f"a = Article.objects.get(pk={pk}); a.published = False; a.save()")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"]) == ("LEFT", pk)  # out of what anonymous may see
        await socket.close()

    asyncio.run(scenario())


def test_left_when_the_row_changed_again_before_the_batch_is_rendered(
        server: DaphneServer, author: User) -> None:
    """An update that takes a row out of the filter is a LEFT even when the row changed
    again (or was deleted) before the server rendered it: what the row was before the
    update is read from its later changes, not from the row as it is by then. Each pair
    commits in one transaction, so the two changes reach the server together (before,
    the first pair sent nothing at all: the DELETED because the row had left first, the
    LEFT because of the DELETED; the second pair nothing because each update was judged
    against the other one's new value)."""

    async def scenario() -> None:
        # Anonymous may read published articles only (myproject/graphql.py).
        socket, ready = await subscribe(server, filters={"title": {"startswith": "News"}})
        assert ready["op"] == "READY"
        for n, then in enumerate(["a.delete()", "a.published = False; a.save()"]):
            shell(f"Article.objects.create(title='News {n}', content='c', "
                  f"author_id={author.pk}, published=True)")
            created = await socket.event("a", "article_changes")
            assert (created["op"], created["node"]["title"]) == ("CREATED", f"News {n}")
            shell("from django.db import transaction\n"
                  f"with transaction.atomic():\n a = Article.objects.get(pk={created['pk']})\n"
                  f" a.title = 'Old'; a.save()\n {then}")
            # The next event tells what arrived before it: exactly one LEFT.
            shell(f"Article.objects.create(title='News {n} end', content='c', "
                  f"author_id={author.pk}, published=True)")
            left = await socket.event("a", "article_changes")
            assert (left["op"], left["pk"]) == ("LEFT", created["pk"])
            end = await socket.event("a", "article_changes")
            assert (end["op"], end["node"]["title"]) == ("CREATED", f"News {n} end")
        await socket.close()

    asyncio.run(scenario())


def test_a_chained_filter_across_a_relation_sends_left(server: DaphneServer,
                                                       author: User) -> None:
    """CHAIN across a many-to-many relation is a subquery (api_graphql/filters.py):
    untagging an article is a LEFT for it, as for the filter without the chain."""

    async def scenario() -> None:
        chain = {"CHAIN": [{"title": {"startswith": "News"}}, {"tags": {"name": {"exact": "go"}}}]}
        socket, ready = await subscribe(server, filters=chain)
        assert ready["op"] == "READY"
        shell("from django.db import transaction\nwith transaction.atomic():\n"
              f" a = Article.objects.create(title='News', content='c', author_id={author.pk},"
              " published=True)\n a.tags.add(Tag.objects.create(name='go'))")
        created = await socket.event("a", "article_changes")
        assert created["op"] == "CREATED"
        tagged = await socket.event("a", "article_changes")  # the many-to-many row's event
        assert (tagged["op"], tagged["pk"], tagged["changed_fields"]) == (
            "UPDATED", created["pk"], ["tags"])
        shell(f"Article.objects.get(pk={created['pk']}).tags.clear()")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"]) == ("LEFT", created["pk"])
        await socket.close()

    asyncio.run(scenario())


def test_events_respect_the_subscribers_permissions(server: DaphneServer, root: Any,
                                                    make_user: Any, author: User) -> None:
    viewer = make_user("viewer", actions=("view",))

    async def scenario() -> None:
        anonymous, _ = await subscribe(server)
        watcher, _ = await subscribe(server, init=bearer(viewer))
        await anonymous.send({"type": "subscribe", "id": "u", "payload": {
            "query": "subscription { user_changes { op pk node { username email } } }"}})
        refused = await anonymous.next_for("u")
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        admin_socket = await GraphQLSocket.open(server.ws, init=bearer(root))
        await admin_socket.subscribe("u", "subscription { user_changes { op pk } }")
        await admin_socket.event("u", "user_changes")

        shell(f"Article.objects.create(title='Draft', content='c', author_id={author.pk})")
        event = await watcher.event("a", "article_changes")
        assert (event["op"], event["node"]["title"]) == ("CREATED", "Draft")
        shell("User.objects.create(email='new@example.com', username='newcomer')")
        assert (await admin_socket.event("u", "user_changes"))["op"] == "CREATED"
        shell(f"Article.objects.create(title='Public', content='c', author_id={author.pk}, "
              "published=True)")
        # The first thing anonymous hears is the public article: no draft, no user.
        message = await anonymous.receive()
        assert message["id"] == "a"
        event = message["payload"]["data"]["article_changes"]
        assert (event["op"], event["node"]["title"]) == ("CREATED", "Public")
        assert event["node"]["author"] is None  # users are not readable anonymously
        for socket in (anonymous, watcher, admin_socket):
            await socket.close()

    asyncio.run(scenario())


def test_a_rolled_back_transaction_publishes_nothing(server: DaphneServer,
                                                     author: User) -> None:
    async def scenario() -> None:
        socket, _ = await subscribe(server)
        shell("from django.db import transaction\n"
              "try:\n"
              "    with transaction.atomic():\n"
              f"        Article.objects.create(title='Ghost', content='c', "
              f"author_id={author.pk}, published=True)\n"
              "        raise RuntimeError\n"
              "except RuntimeError:\n"
              "    pass\n"
              f"Article.objects.create(title='Real', content='c', author_id={author.pk}, "
              "published=True)")
        event = await socket.event("a", "article_changes")
        assert event["node"]["title"] == "Real"
        await socket.close()

    asyncio.run(scenario())


def test_resume_replays_exactly_what_was_missed(server: DaphneServer, root: Any,
                                                author: User) -> None:
    async def scenario() -> None:
        socket, _ = await subscribe(server, init=bearer(root))
        shell(f"Article.objects.create(title='A', content='c', author_id={author.pk})")
        seen = await socket.event("a", "article_changes")
        await socket.close()
        a_pk = seen["pk"]
        shell(f"a = Article.objects.get(pk={a_pk}); a.title = 'A2'; a.save()\n"
              f"b = Article.objects.create(title='B', content='c', author_id={author.pk})\n"
              f"Article.objects.get(pk={a_pk}).delete()")
        resumed, first = await subscribe(server, init=bearer(root), after=seen["cursor"])
        replay = [first]
        while replay[-1]["op"] != "READY":
            replay.append(await resumed.event("a", "article_changes"))
        # A's update is replayed with the state after commit: A is gone, so only its
        # deletion is worth telling; B's creation in between.
        assert [(e["op"], e["node"]["title"] if e["node"] else e["pk"]) for e in replay] == [
            ("CREATED", "B"), ("DELETED", a_pk), ("READY", None)]
        cursors = [int(e["cursor"]) for e in replay]
        assert cursors == sorted(cursors) and cursors[0] > int(seen["cursor"])
        shell(f"Article.objects.create(title='C', content='c', author_id={author.pk})")
        live = await resumed.event("a", "article_changes")
        assert (live["op"], live["node"]["title"]) == ("CREATED", "C")
        assert int(live["cursor"]) > cursors[-1]
        await resumed.close()

    asyncio.run(scenario())


def test_a_cursor_beyond_the_retention_window_gets_resync(server: DaphneServer, root: Any,
                                                          author: User) -> None:
    async def scenario() -> None:
        shell(f"Article.objects.create(title='old', content='c', author_id={author.pk})\n"
              f"Article.objects.create(title='older', content='c', author_id={author.pk})\n"
              "from realtime.hub import prune\nprune(0)")
        socket, first = await subscribe(server, init=bearer(root), after="0")
        assert first["op"] == "RESYNC"
        shell(f"Article.objects.create(title='new', content='c', author_id={author.pk})")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["node"]["title"]) == ("CREATED", "new")
        future, first = await subscribe(server, init=bearer(root), after="999999", op_id="b")
        assert first["op"] == "RESYNC"
        shell(f"Article.objects.create(title='after resync', content='c', author_id={author.pk})")
        event = await future.event("b", "article_changes")  # events continue after RESYNC
        assert (event["op"], event["node"]["title"]) == ("CREATED", "after resync")
        for s in (socket, future):
            await s.close()

    asyncio.run(scenario())


def test_resume_survives_a_worker_restart(root: Any, author: User) -> None:
    server = DaphneServer().start()

    async def before() -> str:
        socket, _ = await subscribe(server, init=bearer(root))
        shell(f"Article.objects.create(title='before', content='c', author_id={author.pk})")
        event = await socket.event("a", "article_changes")
        await socket.close()
        return str(event["cursor"])

    async def after(cursor: str) -> list[dict[str, Any]]:
        socket, first = await subscribe(server, init=bearer(root), after=cursor)
        events = [first]
        while events[-1]["op"] != "READY":
            events.append(await socket.event("a", "article_changes"))
        await socket.close()
        return events

    try:
        cursor = asyncio.run(before())
        server.stop()
        shell(f"Article.objects.create(title='while down 1', content='c', author_id={author.pk})"
              f"\nArticle.objects.create(title='while down 2', content='c', "
              f"author_id={author.pk})")
        server.start()
        events = asyncio.run(after(cursor))
    finally:
        server.stop()
    assert [(e["op"], e["node"] and e["node"]["title"]) for e in events] == [
        ("CREATED", "while down 1"), ("CREATED", "while down 2"), ("READY", None)]


def test_a_change_through_one_worker_reaches_a_subscriber_on_another(root: Any,
                                                                     author: User) -> None:
    """Over Redis when REDIS_URL is set; through the shared outbox otherwise."""
    with daphne() as worker_a, daphne() as worker_b:
        async def scenario() -> None:
            socket, _ = await subscribe(worker_b, init=bearer(root))
            await orm(lambda: graphql_post(
                worker_a.http + "/graphql",
                'mutation($a: ID!) { create_article(data: {title: "From A", content: "c", '
                "author: $a}) { ok } }", {"a": str(author.pk)},
                headers={"Authorization": bearer(root)["authorization"]}))
            event = await socket.event("a", "article_changes")
            assert (event["op"], event["node"]["title"]) == ("CREATED", "From A")
            await socket.close()

        asyncio.run(scenario())


def test_tags_stream_and_json_shapes(server: DaphneServer) -> None:
    async def scenario() -> None:
        socket = await GraphQLSocket.open(server.ws)
        await socket.subscribe("t", "subscription { tag_changes { __typename op node "
                                    "{ __typename name } } }")
        assert (await socket.event("t", "tag_changes"))["op"] == "READY"
        await orm(lambda: Tag.objects.create(name="fresh"))
        event = await socket.event("t", "tag_changes")
        assert event == {"__typename": "TagChange", "op": "CREATED",
                         "node": {"__typename": "Tag", "name": "fresh"}}
        await socket.close()

    asyncio.run(scenario())


def test_changes_payload_is_valid_json_for_every_subscriber(server: DaphneServer) -> None:
    async def scenario() -> None:
        sockets = [await GraphQLSocket.open(server.ws) for _ in range(5)]
        for s in sockets:
            await s.subscribe("t", "subscription { tag_changes { op cursor node { name } } }")
            await s.event("t", "tag_changes")
        executed = await orm(lambda: counter(server, "realtime_selection_executions_total"))
        await orm(lambda: Tag.objects.create(name="shared"))
        frames = [await s.next_for("t") for s in sockets]
        payloads = {json.dumps(f["payload"], sort_keys=True) for f in frames}
        assert len(payloads) == 1  # the same payload for every member of the group
        # ...read once for the five of them, not once per socket.
        assert await orm(lambda: counter(server, "realtime_selection_executions_total")) == (
            executed + 1)
        for s in sockets:
            await s.close()

    asyncio.run(scenario())


def test_a_deletion_reaches_a_subscriber_whose_rule_it_matched(server: DaphneServer,
                                                               author: User) -> None:
    """DELETED is judged on the deleted row's last values; with no lock row around
    (PostgreSQL sequences without it)."""
    async def scenario() -> None:
        article = await orm(lambda: Article.objects.create(
            title="Gone soon", content="c", author=author, published=True))
        await orm(lambda: StreamPosition.objects.filter(model="*").delete())
        socket, _ = await subscribe(server)  # anonymous: published articles only
        shell(f"Article.objects.get(pk={article.pk}).delete()")
        event = await socket.event("a", "article_changes")
        assert (event["op"], event["pk"]) == ("DELETED", str(article.pk))
        await socket.close()

    asyncio.run(scenario())
