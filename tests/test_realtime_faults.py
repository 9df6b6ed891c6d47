"""Faults injected into the realtime path, on PostgreSQL and Redis instances these
tests start themselves (so they can stop and restart them): every committed change
reaches every subscriber, in order, once, whatever fails meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.instances import PostgresInstance, RedisInstance, postgres_bin
from tests.servers import ROOT, DaphneServer, child_environment
from tests.ws_client import GraphQLSocket

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL binaries")

CHANGES = """subscription($after: String) {
    article_changes(after: $after) { op cursor pk } }"""


TS_CLIENT = ROOT / "ts_client"


class NodeSubscriber:
    """ts_client's own live subscription (Client.live, graphql-ws) in a Node process,
    bundled from ts_client/test/fault/live-client.ts; one line per event and status."""

    def __init__(self, url: str, bundle: Path) -> None:
        self.process = subprocess.Popen(["node", str(bundle), url], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.events: list[tuple[int, str, str]] = []
        self.statuses: list[str] = []
        self.other: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "event":
                cursor, op, pk = rest.split()
                if op not in ("READY", "RESYNC"):
                    self.events.append((int(cursor), op, pk))
                elif op == "RESYNC":
                    self.other.append(line)
            elif kind == "status":
                self.statuses.append(rest)
            else:
                self.other.append(line)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and self.statuses[-1:] == ["ready"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def bundle_ts_client(directory: Path) -> Path:
    out = directory / "live-client.cjs"  # CommonJS: ws requires Node's modules
    subprocess.run([str(TS_CLIENT / "node_modules" / ".bin" / "esbuild"),
                    "test/fault/live-client.ts", "--bundle", "--platform=node", "--format=cjs",
                    f"--outfile={out}", "--log-level=warning"], cwd=TS_CLIENT, check=True,
                   timeout=120)
    return out


class Database:
    def __init__(self, instance: PostgresInstance, name: str) -> None:
        self.instance = instance
        self.name = name
        self.url = instance.url(name) + "?pool_max_size=4"

    def env(self, **extra: str) -> dict[str, str]:
        return child_environment(**{"DATABASE_URL": self.url, "REDIS_URL": "", **extra})

    def sql(self, query: str) -> str:
        return self.instance.psql(query, self.name)


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    instance = PostgresInstance().init()
    try:
        instance.create_database("realtime_faults")
        db = Database(instance, "realtime_faults")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT,
                       env=db.env(), check=True, capture_output=True, timeout=120)
        yield db
    finally:
        instance.destroy()


def writer(db: Database, count: int, prefix: str, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.fault_writer", str(count), prefix,
                             mode], cwd=ROOT, env=db.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class Subscriber:
    """Article changes over one socket, resumed from its last cursor when the socket
    closes. Every frame other than an event (an error, a complete) is kept."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.events: list[tuple[int, str, str]] = []
        self.cursor: str | None = None
        self.failures: list[Any] = []
        self.resumes = 0
        #: pk -> when its first event arrived
        self.arrived: dict[str, float] = {}
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Subscriber:
        self.task = asyncio.get_running_loop().create_task(self.run())
        return self

    async def run(self) -> None:
        attempt = 0
        while True:
            url = self.urls[attempt % len(self.urls)]
            attempt += 1
            try:
                socket = await GraphQLSocket.open(url, open_timeout=5)
            except (TimeoutError, OSError, websockets.WebSocketException):
                await asyncio.sleep(0.2)
                continue
            try:
                await socket.subscribe("a", CHANGES, {"after": self.cursor})
                while True:
                    message = await socket.next_for("a", timeout=3600)
                    if message["type"] != "next":
                        self.failures.append(message)
                        break
                    change = message["payload"]["data"]["article_changes"]
                    if change["op"] in ("READY", "RESYNC"):
                        if change["op"] == "RESYNC":
                            self.failures.append(change)
                        self.cursor = change["cursor"]
                        self.ready.set()
                        continue
                    self.events.append((int(change["cursor"]), change["op"], change["pk"]))
                    self.arrived.setdefault(change["pk"], time.time())
                    self.cursor = change["cursor"]
            except (TimeoutError, websockets.ConnectionClosed, OSError):
                self.resumes += 1
            finally:
                with contextlib.suppress(Exception):
                    await socket.close()

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def article_pks(db: Database, prefix: str) -> list[str]:
    rows = db.sql(f"SELECT id FROM myproject_article WHERE title LIKE '{prefix}-%' ORDER BY id")
    return rows.split()


def check_stream(subscriber: Subscriber, expected_pks: list[str], first: int) -> None:
    """Once each, in cursor order, no cursor skipped."""
    cursors = [cursor for cursor, _, _ in subscriber.events]
    assert cursors == list(range(first + 1, first + 1 + len(cursors))), cursors[:50]
    assert sorted(pk for _, _, pk in subscriber.events) == sorted(expected_pks)
    assert {op for _, op, _ in subscriber.events} == {"CREATED"}


def test_a_database_restart_delays_subscriptions_and_ends_none(database: Database) -> None:
    """PostgreSQL restarted under two servers while a writer commits: the subscribers
    see a pause, never an error, and then every change; a subscription resumed while
    the database is down is answered (its replay, then READY) once it is back."""
    server = DaphneServer(**database.env()).start()
    try:
        start = int(database.sql("SELECT coalesce(max(seq), 0) FROM realtime_changerecord "
                                 "WHERE model = 'myproject.article'"))

        async def scenario() -> None:
            subscribers = [Subscriber([server.ws]).start() for _ in range(3)]
            for subscriber in subscribers:
                await asyncio.wait_for(subscriber.ready.wait(), 30)
            process = writer(database, 150, "restart", "atomic")
            await wait_for(lambda: len(subscribers[0].events) >= 40, 60, "40 events")
            database.instance.stop("immediate")
            late = Subscriber([server.ws])
            late.cursor = str(start)  # resumes: its replay reads the outbox
            late.start()
            await asyncio.sleep(1.0)
            database.instance.start()
            await asyncio.wait_for(late.ready.wait(), 60)
            await asyncio.to_thread(process.wait, 120)
            assert process.returncode == 0, process.stderr.read() if process.stderr else ""
            expected = article_pks(database, "restart")
            assert len(expected) == 150
            for subscriber in [*subscribers, late]:
                await wait_for(lambda s=subscriber: len(s.events) >= 150 or s.failures, 60,
                               "every event")
            await asyncio.sleep(0.5)  # a duplicate would arrive now
            for subscriber in [*subscribers, late]:
                await subscriber.stop()
            for subscriber in subscribers:
                assert subscriber.failures == [] and subscriber.resumes == 0
                check_stream(subscriber, expected, start)
            assert late.failures == []
            check_stream(late, expected, start)

        asyncio.run(scenario())
    finally:
        server.stop()
    log = server.log_path.read_text(errors="replace")
    assert log.count("database unavailable") <= 2, log[-3000:]


def test_retries_give_up_as_unavailable_after_their_patience() -> None:
    from django.db import OperationalError

    from realtime.hub import Unavailable, with_retries

    calls = []

    def unreachable() -> None:
        calls.append(time.monotonic())
        raise OperationalError("connection refused")

    with pytest.raises(Unavailable):
        asyncio.run(with_retries(unreachable, patience=0.3))
    assert len(calls) >= 3  # retried, with backoff, before giving up
    assert calls[-1] - calls[0] < 0.3

    answers = iter([OperationalError("server closed the connection"), None])

    def flaky() -> str:
        error = next(answers)
        if error is not None:
            raise error
        return "answered"

    assert asyncio.run(with_retries(flaky, patience=5)) == "answered"


CRASH_AFTER_THE_WRITE = """
import os
from django.db import connection
from myproject.models import Article

article = Article.objects.get(title="to crash")
article.title = "saved, then the process died"

def die_after_update(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if sql.lstrip().upper().startswith("UPDATE"):
        os._exit(9)  # the UPDATE has committed (autocommit); nothing after it runs
    return result

with connection.execute_wrapper(die_after_update):
    article.save()
"""


def test_a_process_ending_right_after_its_write_loses_no_event(database: Database) -> None:
    """The deterministic crash between a change and its record: a plain save() in
    autocommit, the process killed as soon as its UPDATE returns (where it used to
    write the record, in a second transaction). The trigger wrote the record in the
    UPDATE itself; a server sequences and delivers it, with the exact change."""
    author = database.sql("INSERT INTO users (email, username, is_active, created_at) "
                          "VALUES ('crash@example.com', 'crash', true, now()) RETURNING id"
                          ).split()[0]
    database.sql("INSERT INTO myproject_article (title, content, author_id, published, "
                 f"created_at) VALUES ('to crash', '', {author}, true, now())")
    pk = database.sql("SELECT id FROM myproject_article WHERE title = 'to crash'").strip()
    server = DaphneServer(**database.env()).start()
    try:
        async def scenario() -> list[dict[str, Any]]:
            socket = await GraphQLSocket.open(server.ws)
            await socket.subscribe("a", """subscription {
                article_changes { op pk changed_fields node { title } } }""")
            assert (await socket.event("a", "article_changes"))["op"] == "READY"
            crashed = await asyncio.to_thread(
                subprocess.run, [sys.executable, "manage.py", "shell", "-v0", "-c",
                                 CRASH_AFTER_THE_WRITE],
                cwd=ROOT, env=database.env(), capture_output=True, text=True, timeout=60)
            assert crashed.returncode == 9, crashed.stderr
            changes = [await socket.event("a", "article_changes", timeout=30)]
            if changes[0]["op"] == "CREATED":  # psql's INSERT, if not sequenced before READY
                changes.append(await socket.event("a", "article_changes", timeout=30))
            await socket.close()
            return changes

        changes = asyncio.run(scenario())
    finally:
        server.stop()
    assert changes[-1] == {"op": "UPDATED", "pk": pk, "changed_fields": ["title"],
                           "node": {"title": "saved, then the process died"}}


def test_notify_wakes_the_hub_for_a_write_made_in_psql(database: Database) -> None:
    """With the poll ten minutes apart, a row changed by psql (no Django anywhere)
    reaches the subscriber: the trigger's NOTIFY at commit woke the hub."""
    author = database.sql("INSERT INTO users (email, username, is_active, created_at) "
                          "VALUES ('notify@example.com', 'n', true, now()) RETURNING id"
                          ).split()[0]
    server = DaphneServer(**database.env(DJANGO_SETTINGS_MODULE="tests.settings_slow_poll"))
    server.start()
    try:
        async def scenario() -> list[dict[str, Any]]:
            socket = await GraphQLSocket.open(server.ws)
            await socket.subscribe("a", """subscription {
                article_changes { op changed_fields node { title } } }""")
            assert (await socket.event("a", "article_changes"))["op"] == "READY"
            database.sql("INSERT INTO myproject_article (title, content, author_id, published, "
                         f"created_at) VALUES ('from psql', '', {author}, true, now())")
            database.sql("UPDATE myproject_article SET title = 'edited in psql' "
                         "WHERE title = 'from psql'")
            changes = [await socket.event("a", "article_changes", timeout=120)
                       for _ in range(2)]
            await socket.close()
            return changes

        changes = asyncio.run(scenario())
    finally:
        server.stop()
    assert changes == [
        {"op": "CREATED", "changed_fields": None, "node": {"title": "edited in psql"}},
        {"op": "UPDATED", "changed_fields": ["title"], "node": {"title": "edited in psql"}},
    ] or changes == [
        {"op": "CREATED", "changed_fields": None, "node": {"title": "from psql"}},
        {"op": "UPDATED", "changed_fields": ["title"], "node": {"title": "edited in psql"}},
    ]


@pytest.fixture
def redis() -> Iterator[RedisInstance]:
    instance = RedisInstance().start()
    try:
        yield instance
    finally:
        instance.stop()


def test_every_change_reaches_every_subscriber_through_every_fault(
        database: Database, redis: RedisInstance, tmp_path: Path) -> None:
    """Two workers on our own PostgreSQL and Redis, resuming subscribers on both, 1,000
    autocommit saves from a shell-like process; meanwhile a worker is killed with
    SIGKILL (and started again), Redis restarts and PostgreSQL restarts. Every
    subscriber receives every change once, in cursor order, and is alive at the end."""
    total, subscribers_count = 1000, 12
    env = database.env(REDIS_URL=redis.url, REDIS_PREFIX="faults")
    workers = [DaphneServer(**env).start(), DaphneServer(**env).start()]
    start = int(database.sql("SELECT coalesce(max(seq), 0) FROM realtime_changerecord "
                             "WHERE model = 'myproject.article'"))
    faults: dict[str, float] = {}
    bundle = bundle_ts_client(tmp_path)
    node: NodeSubscriber | None = None
    try:
        async def scenario() -> list[Subscriber]:
            urls = [w.ws for w in workers]
            subscribers = [Subscriber(urls[i % 2:] + urls[:i % 2]).start()
                           for i in range(subscribers_count)]
            for subscriber in subscribers:
                await asyncio.wait_for(subscriber.ready.wait(), 60)
            nonlocal node
            node = NodeSubscriber(workers[0].http + "/graphql", bundle)  # the one killed
            await wait_for(lambda: node is not None and node.alive, 60, "ts_client READY")
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.fault_writer", str(total), "fault", "autocommit"],
                cwd=ROOT, env={**env, "FAULT_WRITER_PAUSE": "0.02"}, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            saved: dict[int, float] = {}

            def read_saves() -> None:
                assert process.stdout is not None
                for line in process.stdout:
                    if line.startswith("saved "):
                        _, index, at = line.split()
                        saved[int(index)] = float(at)

            reader = asyncio.get_running_loop().run_in_executor(None, read_saves)
            await wait_for(lambda: len(saved) >= 250, 120, "250 saves")
            faults["worker SIGKILL"] = time.time()
            workers[0].stop(signal.SIGKILL)
            workers[0] = DaphneServer(port=workers[0].port, **env)
            restarted = asyncio.get_running_loop().run_in_executor(None, workers[0].start)
            await wait_for(lambda: len(saved) >= 500, 120, "500 saves")
            faults["Redis restart"] = time.time()
            await asyncio.to_thread(redis.restart, 1.0)
            await wait_for(lambda: len(saved) >= 750, 120, "750 saves")
            faults["PostgreSQL restart"] = time.time()
            await asyncio.to_thread(database.instance.restart, 1.0)
            await asyncio.to_thread(process.wait, 180)
            await reader
            await restarted
            assert process.returncode == 0, process.stderr.read() if process.stderr else ""
            for subscriber in subscribers:
                await wait_for(lambda s=subscriber: len(s.events) >= total or s.failures, 120,
                               "every event")
            await wait_for(lambda: node is not None and len(node.events) >= total, 120,
                           "every event in ts_client")
            await asyncio.sleep(1.0)  # a duplicate would arrive now
            assert node is not None and node.alive, (node and node.statuses, node and node.other)
            for subscriber in subscribers:
                assert subscriber.task is not None and not subscriber.task.done()
                await subscriber.stop()
            scenario.saved = saved  # type: ignore[attr-defined]
            return subscribers

        subscribers = asyncio.run(scenario())
        saved: dict[int, float] = scenario.saved  # type: ignore[attr-defined]
    finally:
        for worker in workers:
            worker.stop()
    assert node is not None
    node.stop()
    expected = article_pks(database, "fault")
    assert len(expected) == total
    for subscriber in subscribers:
        assert subscriber.failures == []
        check_stream(subscriber, expected, start)
    assert node.other == [], (node.statuses, node.other)
    assert node.statuses.count("ready") >= 2  # its worker was killed under it: ready again
    node_cursors = [cursor for cursor, _, _ in node.events]
    assert node_cursors == list(range(start + 1, start + 1 + total))
    assert sorted(pk for _, _, pk in node.events) == sorted(expected)
    titles = dict(line.split("|") for line in database.sql(
        "SELECT id, title FROM myproject_article WHERE title LIKE 'fault-%'").split())
    lags = sorted(s.arrived[pk] - saved[int(titles[pk].split("-")[1])]
                  for s in subscribers for pk in s.arrived)
    catch_up = {}  # the worst lag of the changes committed in the 5 s after each fault
    for name, at in faults.items():
        window = [s.arrived[pk] - saved[index] for s in subscribers for pk in s.arrived
                  if at <= saved[index := int(titles[pk].split("-")[1])] < at + 5]
        catch_up[name] = round(max(window), 3) if window else None
    figures = {
        "events": total, "subscribers": subscribers_count,
        "delivered": sum(len(s.events) for s in subscribers),
        "resumes": sum(s.resumes for s in subscribers),
        "ts_client_events": len(node.events), "ts_client_statuses": node.statuses,
        "lost": 0, "duplicated": 0, "out_of_order": 0,
        "lag_p50_s": round(lags[len(lags) // 2], 3),
        "lag_p99_s": round(lags[len(lags) * 99 // 100], 3),
        "lag_max_s": round(lags[-1], 3),
        "worst_lag_after_fault_s": catch_up,
    }
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "fault-run.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))
    for worker in workers:
        log = worker.log_path.read_text(errors="replace")
        assert log.count("could not forward") == 0
        assert log.count("channel layer unavailable") <= 2, log[-3000:]
