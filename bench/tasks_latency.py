"""Celery task latencies and what a run record costs (issue 15's note).

    .venv/bin/python bench/tasks_latency.py [--runs 100] [--broker embedded|redis]

Starts its own stack: a fresh database (SQLite file, or the PostgreSQL database
``bench_tasks`` with ``--broker redis``), daphne, and ``celery -A myproject worker``
on the broker (kombu's filesystem transport, or Redis). A superuser subscribes to
``task_run_changes`` over the WebSocket and starts ``export_published_articles``
(5 published articles, chunk 1: 6 PROGRESS states per run) ``--runs`` times, one
at a time. Reported, p50/p99:

- start -> STARTED (server): ``started_at - created_at`` of each row (the mutation
  writes the row, then queues; the worker writes STARTED when it picks the task up);
- start -> STARTED event (client): from sending the mutation to receiving the event;
- progress event: from the worker's write (the node's ``updated_at``) to its receipt;
- the start mutation's round trip, and the cost of the record: bytes per row, outbox
  rows per run. No timing is asserted; this prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port  # noqa: E402
from tests.ws_client import GraphQLSocket  # noqa: E402

POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/9"
SEED = """
from django.contrib.auth import get_user_model
from myproject.models import Article, User
get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
author = User.objects.create(email="a@example.com", username="author")
for i in range(5):
    Article.objects.create(title=f"a{i}", content="c", author=author, published=True)
"""
CHANGES = """subscription { task_run_changes {
    op node { id state current created_at started_at updated_at } } }"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
    return f"p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  (n={len(values)})"


def when(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def post(url: str, query: str, token: str | None = None, opener: Any = None,
         headers: dict[str, str] | None = None) -> Any:
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps({"query": query}).encode(), headers)
    with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
        return json.loads(response.read())


def login(url: str) -> str:
    """A bearer token for the bench superuser (token_auth needs the CSRF cookie)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    csrf = post(url, "{ csrf_token }", opener=opener)["data"]["csrf_token"]
    answer = post(url, 'mutation { token_auth(username: "bench", password: "bench-password") '
                       "{ token } }", opener=opener, headers={"X-CSRFToken": csrf})
    return str(answer["data"]["token_auth"]["token"])


def environment(broker: str, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="myproject.settings", PYTHONPATH=str(ROOT),
               PYTHONUNBUFFERED="1", CELERY_BROKER_DIR=str(work / "broker"),
               REDIS_PREFIX="bench-tasks",
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    if broker == "redis":
        env.update(DATABASE_URL=f"{POSTGRES}/bench_tasks", REDIS_URL=REDIS)
    else:
        env["DATABASE_URL"] = f"sqlite:///{work / 'db.sqlite3'}"
    return env


def prepare(env: dict[str, str], broker: str) -> None:
    if broker == "redis":
        for sql in ("DROP DATABASE IF EXISTS bench_tasks", "CREATE DATABASE bench_tasks"):
            subprocess.run(["psql", POSTGRES + "/postgres", "-qc", sql], check=True,
                           capture_output=True)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0", "--noinput"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "shell", "-v0", "-c", SEED], cwd=ROOT, env=env, check=True)


async def measure(url: str, runs: int) -> dict[str, list[float]]:
    token = login(url)
    socket = await GraphQLSocket.open(url.replace("http", "ws"),
                                      init={"authorization": f"Bearer {token}"})
    await socket.subscribe("1", CHANGES)
    assert (await socket.event("1", "task_run_changes", 30))["op"] == "READY"
    figures: dict[str, list[float]] = {"server": [], "client": [], "progress": [], "mutation": [],
                                       "missed": []}
    for _ in range(runs):
        sent = time.time()
        answer = post(url, "mutation { start_export_published_articles(chunk: 1) { id } }", token)
        figures["mutation"].append(time.time() - sent)
        run_id = answer["data"]["start_export_published_articles"]["id"]
        started_seen = False
        deadline = time.monotonic() + 15
        while True:
            try:
                event = await asyncio.wait_for(socket.event("1", "task_run_changes", 60),
                                               max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                # The final event never came: count it, read the row instead.
                figures["missed"].append(1.0)
                row = post(url, f'{{ task_run(pk: "{run_id}") {{ created_at started_at }} }}',
                           token)["data"]["task_run"]
                figures["server"].append(when(row["started_at"]) - when(row["created_at"]))
                break
            received = time.time()
            node = event["node"]
            if node is None or node["id"] != run_id:
                continue
            if node["state"] in ("STARTED", "PROGRESS") and not started_seen:
                started_seen = True
                figures["client"].append(received - sent)
            if node["state"] == "PROGRESS":
                figures["progress"].append(received - when(node["updated_at"]))
            if node["state"] in ("SUCCESS", "FAILURE", "REVOKED"):
                figures["server"].append(when(node["started_at"]) - when(node["created_at"]))
                break
    await socket.close()
    return figures


def record_cost(env: dict[str, str], broker: str) -> str:
    size = ("SELECT avg(pg_column_size(t.*))::int FROM api_graphql_tasks_taskrun t"
            if broker == "redis" else
            "SELECT 0")
    code = f"""
from django.db import connection
from api_graphql.tasks.models import TaskRun
from realtime.models import ChangeRecord
runs = TaskRun.objects.count()
outbox = ChangeRecord.objects.filter(model="api_graphql_tasks.taskrun").count()
with connection.cursor() as cursor:
    cursor.execute({size!r})
    size = cursor.fetchone()[0]
if not size:
    import json
    rows = list(TaskRun.objects.values())
    size = sum(len(json.dumps(r, default=str)) for r in rows) // max(1, len(rows))
per_run = outbox / max(1, runs)
print(f"{{runs}} runs, {{per_run:.1f}} outbox rows per run, ~{{size}} bytes per run row")
"""
    result = subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c", code], cwd=ROOT,
                            env=env, check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--broker", choices=["embedded", "redis"], default="embedded")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-tasks-"))
    env = environment(args.broker, work)
    prepare(env, args.broker)
    port = free_port()
    with (work / "daphne.log").open("wb") as log_d, (work / "worker.log").open("wb") as log_w:
        daphne = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p",
                                   str(port), "myproject.asgi:application"],
                                  cwd=ROOT, env=env, stdout=log_d, stderr=subprocess.STDOUT)
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "myproject", "worker",
                                   "--loglevel=INFO", "--concurrency=1", "--without-gossip",
                                   "--without-mingle", "--without-heartbeat"],
                                  cwd=ROOT, env=env, stdout=log_w, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/graphql"
            deadline = time.monotonic() + 60
            while b" ready." not in (work / "worker.log").read_bytes():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start: {work / 'worker.log'}")
                time.sleep(0.1)
            while True:
                try:
                    post(url, "{ __typename }")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            figures = asyncio.run(measure(url, args.runs))
        finally:
            worker.terminate()  # both also on an exception or Ctrl-C
            daphne.terminate()
            worker.wait(30)
            daphne.wait(30)
    stack = "PostgreSQL + Redis" if args.broker == "redis" else "SQLite + filesystem"
    print(f"broker: {args.broker} ({stack})")
    print(f"start -> STARTED, server (started_at - created_at): {summary(figures['server'])}")
    print(f"start -> first STARTED/PROGRESS event, client:      {summary(figures['client'])}")
    print(f"progress event, worker write -> client:            {summary(figures['progress'])}")
    print(f"start mutation round trip:                          {summary(figures['mutation'])}")
    print(f"runs whose final event did not arrive within 15 s: {len(figures['missed'])}")
    print(f"run record: {record_cost(env, args.broker)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
