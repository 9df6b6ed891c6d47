"""The writer: produces change events, stamped with CLOCK_MONOTONIC.

``--mode save`` is the real path: a separate Django process (like an admin, a
shell or a worker) sets ``title = "bench <monotonic_ns>"`` on bench articles and
calls ``save(update_fields=["title"])``; realtime captures the change, commits it
and delivers it. ``--mode update`` is the same write without realtime (a
``QuerySet.update``, which sends no signal): what the write itself costs here.
``--mode publish`` is the floor: the same event, PUBLISHed straight to Redis for
the bare websockets server.

Each sender warms up before the clock starts (connections to the database and
Redis, the publisher's thread), without an event any subscriber would receive.

Open loop: event i is sent at start + i/rate whatever happened before (rate 0:
as fast as possible, ``--batch`` rows per transaction). Prints one JSON line.

    python -m bench.lib.writer --mode save --pks 1,2,3 --events 50 --rate 20
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable


def save_sender(pks: list[int], batch: int) -> Callable[[int], None]:
    import django

    django.setup()
    from django.db import transaction

    from myproject.models import Article

    articles = {a.pk: a for a in Article.objects.filter(pk__in=pks)}
    rows = [articles[pk] for pk in pks]
    # A change to a row outside the subscription's filter: the whole path runs once.
    outside = Article.objects.get(pk=max(pks) + 1)
    outside.title = f"warm-up {time.monotonic_ns()}"
    outside.save(update_fields=["title"])
    time.sleep(0.2)  # its publish runs on the publisher's thread: let it connect

    def send(i: int) -> None:
        with transaction.atomic():
            for k in range(batch):
                row = rows[(i * batch + k) % len(rows)]
                row.title = f"bench {time.monotonic_ns()}"
                row.save(update_fields=["title"])

    return send


def update_sender(pks: list[int], batch: int) -> Callable[[int], None]:
    import django

    django.setup()
    from django.db import transaction

    from myproject.models import Article

    Article.objects.filter(pk=max(pks) + 1).update(title=f"warm-up {time.monotonic_ns()}")

    def send(i: int) -> None:
        with transaction.atomic():
            for k in range(batch):
                pk = pks[(i * batch + k) % len(pks)]
                Article.objects.filter(pk=pk).update(title=f"bench {time.monotonic_ns()}")

    return send


def publish_sender(pks: list[int], batch: int, channel: str) -> Callable[[int], None]:
    import orjson
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.ping()

    def send(i: int) -> None:
        for k in range(batch):
            pk = pks[(i * batch + k) % len(pks)]
            event = {"op": "UPDATED", "cursor": str(i * batch + k), "pk": str(pk),
                     "node": {"id": str(pk), "title": f"bench {time.monotonic_ns()}"},
                     "changed_fields": ["title"]}
            client.publish(channel, orjson.dumps(event))

    return send


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["save", "update", "publish"], required=True)
    parser.add_argument("--pks", required=True, help="comma-separated article pks")
    parser.add_argument("--events", type=int, required=True, help="sends (x batch events)")
    parser.add_argument("--rate", type=float, default=0.0, help="sends per second; 0 = burst")
    parser.add_argument("--batch", type=int, default=1, help="rows per transaction")
    parser.add_argument("--channel", default="bench-floor", help="Redis channel (publish mode)")
    args = parser.parse_args()
    pks = [int(p) for p in args.pks.split(",")]
    if args.mode == "save":
        send = save_sender(pks, args.batch)
    elif args.mode == "update":
        send = update_sender(pks, args.batch)
    else:
        send = publish_sender(pks, args.batch, args.channel)
    late: list[float] = []
    # How long each send takes in the writer (for "save": the transaction, the
    # commit and what runs on commit), so (c) can split its latency into the
    # writer's part and the server's part.
    durations_ms: list[float] = []
    started = time.monotonic()
    for i in range(args.events):
        if args.rate > 0:
            due = started + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                late.append(-delay)
        t0 = time.perf_counter()
        send(i)
        durations_ms.append(1000 * (time.perf_counter() - t0))
    seconds = time.monotonic() - started
    durations_ms.sort()
    print(json.dumps({"sent": args.events * args.batch, "seconds": seconds,
                      "late_sends": len(late), "max_late_ms": 1000 * max(late, default=0.0),
                      "send_p50_ms": durations_ms[len(durations_ms) // 2],
                      "send_max_ms": durations_ms[-1]}))


if __name__ == "__main__":
    main()
