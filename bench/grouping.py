"""Selection executions and Redis commands per event for 1,000 identical subscribers.

Against a running worker (``--port``) with Redis: 100 sockets x 10 identical
subscriptions to published articles, then 20 saves from a ``manage.py shell``.
Reads the worker's /metrics and Redis' INFO commandstats before and after. Run:
``.venv/bin/python -m bench.grouping --port 8000`` (the worker's settings and
DATABASE_URL/REDIS_URL must be the ones this process gets).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import redis

from tests.ws_client import GraphQLSocket

ROOT = Path(__file__).resolve().parent.parent
QUERY = ("subscription { article_changes(filters: {published: {exact: true}}) "
         "{ op cursor node { id title author_id } } }")
SAVES = 20


def metrics(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    return {k: float(v) for k, v in re.findall(r"^(realtime_\w+) (\S+)$", text, re.MULTILINE)}


def commands(client: redis.Redis) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): value["calls"]
            for name, value in client.info("commandstats").items()}


async def run(port: int) -> None:
    sockets = [await GraphQLSocket.open(f"ws://127.0.0.1:{port}/graphql") for _ in range(100)]
    for socket in sockets:
        for n in range(10):
            await socket.subscribe(str(n), QUERY)
    for socket in sockets:
        for n in range(10):
            await socket.event(str(n), "article_changes")
    client = redis.Redis()
    before, redis_before = metrics(port), commands(client)
    subprocess.run([sys.executable, "manage.py", "shell", "-v0", "-c",
                    "from myproject.models import Article\n"
                    f"for a in Article.objects.filter(published=True)[:{SAVES}]:\n"
                    "    a.title += '!'\n    a.save()"], cwd=ROOT, check=True)
    for socket in sockets:
        for n in range(10):
            for _ in range(SAVES):
                await socket.event(str(n), "article_changes", timeout=60)
    after, redis_after = metrics(port), commands(client)
    delta = {k: after[k] - before.get(k, 0) for k in after}
    print(f"subscriptions {after['realtime_subscriptions']:.0f}, "
          f"events {delta['realtime_events_delivered_total']:.0f}, "
          f"selection executions {delta['realtime_selection_executions_total']:.0f}, "
          f"payloads {delta['realtime_payloads_sent_total']:.0f}")
    print("Redis commands during the saves:",
          {k: v - redis_before.get(k, 0) for k, v in redis_after.items()
           if v - redis_before.get(k, 0)})
    for socket in sockets:
        await socket.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(run(parser.parse_args().port))
