"""The cluster for real: PostgreSQL, Redis, two ``manage.py serve`` workers and nginx,
started by ``deploy/cluster.py`` (what ``scripts/cluster`` runs).

Every subscriber and writer goes through the balancer, except the request that
is deliberately left in flight on the worker being stopped. The balancer tells
which worker answered in ``X-Upstream``. Subscribers resume as the contract
says (DESIGN.md): on a close they reconnect and pass their last cursor as
``after``; the server replays what they missed, then READY.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import signal
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import websockets

from deploy.cluster import Cluster, alive
from tests.ws_client import GraphQLSocket

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHANGES = """subscription Follow($after: String) {
    article_changes(after: $after) { op cursor pk node { title } } }"""
CREATE = """mutation CreateArticle($title: String!, $author: ID!) {
    create_article(data: {title: $title, content: "c", author: $author, published: true}) {
        ok pk } }"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    name = "pytest" + os.environ.get("TEST_DB_SUFFIX", "")
    with Cluster(name=name, workers=2).start(fresh=True, seed=True) as running:
        yield running


class Api:
    """GraphQL over HTTP as the demo's admin, with a bearer token."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        csrf = self._post(opener, {"query": "{ csrf_token }"})[0]["data"]["csrf_token"]
        login = self._post(opener, {
            "query": 'mutation { token_auth(username: "admin", password: "demo-password") '
                     "{ token user { id } } }"}, {"X-CSRFToken": csrf})[0]
        self.token = login["data"]["token_auth"]["token"]
        self.author = self.query("{ user_list(limit: 1) { id } }")[0]["data"]["user_list"][0]["id"]

    def _post(self, opener: Any, body: dict[str, Any],
              headers: dict[str, str] | None = None, url: str | None = None) -> tuple[Any, str]:
        request = urllib.request.Request(
            url or self.base + "/graphql", json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})}, method="POST")
        with opener.open(request, timeout=30) as response:
            return json.loads(response.read()), response.headers.get("X-Upstream", "")

    def query(self, query: str, variables: dict[str, Any] | None = None,
              url: str | None = None) -> tuple[Any, str]:
        return self._post(urllib.request.build_opener(),
                          {"query": query, "variables": variables},
                          {"Authorization": f"Bearer {self.token}"}, url)

    def create(self, title: str, url: str | None = None) -> tuple[str, str]:
        """(pk, worker) of a new published article."""
        body, worker = self.query(CREATE, {"title": title, "author": self.author}, url)
        assert body["data"]["create_article"]["ok"], body
        return str(body["data"]["create_article"]["pk"]), worker


class Follower:
    """An anonymous subscriber of article_changes through the balancer that resumes
    from its last cursor whenever the server closes the socket."""

    def __init__(self, url: str, gate: asyncio.Event | None = None) -> None:
        self.url = url
        #: When set, a closed follower waits for it before reconnecting (the test
        #: holds it shut to make sure changes happen while the follower is away).
        self.gate = gate
        self.cursor: str | None = None
        self.created: list[str] = []  # pks of CREATED events, in arrival order
        self.cursors: list[int] = []
        self.workers: list[str] = []  # the worker of each connection
        self.closes: list[int | None] = []  # close codes the server sent
        self.replayed = 0  # events received before READY on a resume
        self.socket: GraphQLSocket | None = None

    async def connect(self) -> None:
        self.socket = await GraphQLSocket.open(self.url)
        response = self.socket.connection.response
        assert response is not None
        self.workers.append(response.headers["X-Upstream"])
        await self.socket.subscribe("a", CHANGES, {"after": self.cursor})
        resuming = self.cursor is not None
        while True:
            event = await self.socket.event("a", "article_changes")
            if event["op"] == "READY":
                self.cursor = self.cursor or event["cursor"]
                return
            assert event["op"] != "RESYNC", "the outbox still holds what was missed"
            self.record(event)
            self.replayed += resuming

    def record(self, event: dict[str, Any]) -> None:
        if event["op"] == "CREATED":
            self.created.append(str(event["pk"]))
        self.cursor = event["cursor"]
        self.cursors.append(int(event["cursor"]))

    async def follow(self, until: set[str] | None, stop: asyncio.Event) -> None:
        """Record events (resuming after closes) until every pk in ``until`` arrived,
        or ``stop`` is set when ``until`` is None."""
        while until is None or not until <= set(self.created):
            if until is None and stop.is_set():
                return
            assert self.socket is not None
            try:
                event = await self.socket.event("a", "article_changes", timeout=1)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed as closed:
                self.closes.append(closed.rcvd.code if closed.rcvd else None)
                if self.gate is not None:
                    await self.gate.wait()
                await self.connect()  # through the balancer: another worker if this one left
                continue
            self.record(event)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


async def until(condition: Any, what: str, timeout: float = 60) -> None:
    """Wait for ``condition()`` (no timing is asserted: the bound only ends a hang)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {timeout:g} s for {what}"
        await asyncio.sleep(0.05)


def ws_url(cluster: Cluster) -> str:
    return cluster.url.replace("http://", "ws://") + "/graphql"


def worker_of(cluster: Cluster, upstream: str) -> int:
    ports = [w.port for w in cluster.members]
    return ports.index(int(upstream.rsplit(":", 1)[1]))


def metrics(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return {name: float(value) for name, value in
            re.findall(r"^(\w+(?:\{[^}]*\})?) (\S+)$", text, re.MULTILINE)}


def save_figures(name: str, figures: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2))
    print(f"\n{name}: {json.dumps(figures)}")


def test_events_from_every_worker_reach_every_subscriber(cluster: Cluster) -> None:
    api = Api(cluster.url)

    async def scenario() -> dict[str, Any]:
        followers = [Follower(ws_url(cluster)) for _ in range(4)]
        for follower in followers:
            await follower.connect()
        on = {worker_of(cluster, f.workers[0]) for f in followers}
        assert on == {0, 1}, "round robin spreads the sockets over both workers"
        writes = [await asyncio.to_thread(api.create, f"across {i}") for i in range(10)]
        # And one from a process that serves nothing (a manage.py shell).
        shell = await asyncio.to_thread(
            cluster.manage, "shell", "-v0", "-c",
            "from myproject.models import Article, User\n"
            "print(Article.objects.create(title='from a shell', content='c', published=True,"
            " author=User.objects.first()).pk)")
        expected = [pk for pk, _ in writes] + [shell.split()[-1]]
        stop = asyncio.Event()
        try:
            await asyncio.wait_for(asyncio.gather(
                *(f.follow(set(expected), stop) for f in followers)), 60)
        except TimeoutError:
            missing = [sorted(set(expected) - set(f.created)) for f in followers]
            raise AssertionError(f"events missing after 60 s: {missing}") from None
        for follower in followers:
            assert follower.created == expected  # all of them, once each, in commit order
            assert follower.cursors == sorted(follower.cursors)
            await follower.close()
        return {"subscribers": len(followers),
                "subscribers_per_worker": [sum(worker_of(cluster, f.workers[0]) == i
                                               for f in followers) for i in (0, 1)],
                "writes_per_worker": [sum(worker_of(cluster, w) == i for _, w in writes)
                                      for i in (0, 1)],
                "events": len(expected),
                "received": sum(len(f.created) for f in followers)}

    figures = asyncio.run(scenario())
    assert all(figures["writes_per_worker"]), "writes landed on both workers"
    delivered = [metrics(w.url)["realtime_events_delivered_total"] for w in cluster.members]
    assert all(count >= figures["events"] for count in delivered)
    # Structured logs: every worker writes one JSON object per line, with operations named.
    logged = [json.loads(line) for index in (1, 2)
              for line in (cluster.dir / f"worker-{index}.log").read_text().splitlines()
              if line.startswith("{")]
    named = [e for e in logged if e.get("operation_name") == "CreateArticle"]
    assert len(named) >= 10 and all(e["operation_type"] == "mutation" for e in named)
    save_figures("cluster-across-workers", figures)


def send_half_a_request(url: str, api: Api, title: str) -> tuple[socket.socket, bytes]:
    """A mutation whose body is only half sent: in flight on that worker."""
    body = json.dumps({"query": CREATE, "variables": {"title": title,
                                                      "author": api.author}}).encode()
    address = urlparse(url)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    connection.sendall(
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + api.token.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        + body[:len(body) // 2])
    return connection, body[len(body) // 2:]


def finish_request(connection: socket.socket, rest: bytes) -> tuple[int, Any]:
    connection.sendall(rest)
    raw = b""
    while chunk := connection.recv(65536):
        raw += chunk
    connection.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(payload)


def test_a_worker_stopped_mid_stream_drains_and_its_clients_resume_elsewhere(
        cluster: Cluster) -> None:
    api = Api(cluster.url)

    async def scenario() -> dict[str, Any]:
        gate = asyncio.Event()
        followers = [Follower(ws_url(cluster), gate) for _ in range(8)]
        for follower in followers:
            await follower.connect()
        leaving = worker_of(cluster, followers[0].workers[0])
        staying = 1 - leaving
        moved = [f for f in followers if worker_of(cluster, f.workers[0]) == leaving]
        assert moved and len(moved) < len(followers)
        stop = asyncio.Event()
        following = [asyncio.ensure_future(f.follow(None, stop)) for f in followers]
        written: list[tuple[str, str]] = []
        writing = asyncio.Event()

        def writer() -> None:
            for i in range(60):
                written.append(api.create(f"stream {i}"))
                if i == 10:
                    writing.set()
                time.sleep(0.02)  # pacing, so the stop lands mid-stream

        writes = asyncio.ensure_future(asyncio.to_thread(writer))
        await until(writing.is_set, "the first writes")
        await until(lambda: all(len(f.created) >= 5 for f in followers), "the first events")
        # A request in flight on the leaving worker, then SIGTERM.
        pid = cluster.members[leaving].pid
        assert pid is not None
        connection, rest = await asyncio.to_thread(
            send_half_a_request, cluster.members[leaving].url, api, "in flight")
        os.kill(pid, signal.SIGTERM)
        await until(lambda: all(f.closes for f in moved), "the sockets to be closed")
        assert all(f.closes == [1001] for f in moved)
        # The worker is still draining: it waits for the request it accepted.
        assert cluster.members[leaving].pid is not None and alive(pid)
        status, answer = await asyncio.to_thread(finish_request, connection, rest)
        assert status == 200 and answer["data"]["create_article"]["ok"], answer
        await asyncio.to_thread(cluster.stop_worker, leaving)  # reaps it once it exits
        missed = len(written) + 1  # at least these were committed while they were away
        gate.set()
        await writes
        expected = [pk for pk, _ in written] + [str(answer["data"]["create_article"]["pk"])]
        await until(lambda: all(set(expected) <= set(f.created) for f in followers),
                    "every event at every subscriber")
        stop.set()
        await asyncio.gather(*following)
        for follower in followers:
            # Nothing lost, nothing twice, in cursor order, whatever the worker.
            assert sorted(follower.created, key=int) == sorted(expected, key=int)
            assert len(follower.created) == len(set(follower.created))
            assert follower.cursors == sorted(set(follower.cursors))
            await follower.close()
        for follower in moved:
            assert [worker_of(cluster, w) for w in follower.workers] == [leaving, staying]
            assert follower.replayed >= 1  # the request that finished during the drain
        resumes = metrics(cluster.members[staying].url)["realtime_resumes_total"]
        assert resumes >= len(moved)
        return {"subscribers": len(followers), "on_stopped_worker": len(moved),
                "events": len(expected),
                "writes_served_by": {"stopped": sum(worker_of(cluster, w) == leaving
                                                    for _, w in written),
                                     "other": sum(worker_of(cluster, w) == staying
                                                  for _, w in written)},
                "close_codes": sorted({c for f in moved for c in f.closes}),
                "committed_before_resume": missed,
                "replayed_on_resume": [f.replayed for f in moved],
                "received_per_subscriber": sorted({len(f.created) for f in followers}),
                "resumes_counted_by_other_worker": resumes,
                "in_flight_request_status": status}

    try:
        figures = asyncio.run(scenario())
    finally:
        if cluster.members[0].pid is None or cluster.members[1].pid is None:
            cluster.start_worker(0 if cluster.members[0].pid is None else 1)
    save_figures("cluster-worker-stopped", figures)


def test_a_task_started_through_the_balancer_runs_on_the_clusters_worker(
        cluster: Cluster) -> None:
    """The cluster's Celery worker (Redis broker) runs what any daphne worker queued."""
    assert cluster.tasks_pid is not None and alive(cluster.tasks_pid)
    api = Api(cluster.url)
    body, _ = api.query("mutation { start_export_published_articles(chunk: 5) { id state } }")
    run = body["data"]["start_export_published_articles"]
    assert run["state"] == "PENDING"
    deadline = time.monotonic() + 90
    while True:
        answer, _ = api.query("query($pk: ID!) { task_run(pk: $pk) { state result error } }",
                              {"pk": run["id"]})
        state = answer["data"]["task_run"]
        if state["state"] in ("SUCCESS", "FAILURE", "REVOKED") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert state["state"] == "SUCCESS", state
    assert state["result"]["url"].startswith("/exports/articles-")
