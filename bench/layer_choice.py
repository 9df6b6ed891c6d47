"""Core or Pub/Sub channels-redis layer, for the hub's pattern (issue 4's choice).

The hub holds one group membership per model per process and sends one group_send
per committed batch. This measures that pattern with a receiver in a second process:
latency from group_send to receive, and Redis commands per event (INFO
commandstats). Run: ``.venv/bin/python -m bench.layer_choice`` (Redis db 7).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import statistics
import time
from typing import Any

import redis

LAYERS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
GROUP = "realtime.myproject.article"
EVENTS = 500


def layer(kind: str) -> Any:
    from django.conf import settings

    if not settings.configured:
        settings.configure(CHANNEL_LAYERS={"default": {
            "BACKEND": LAYERS[kind],
            "CONFIG": {"hosts": ["redis://127.0.0.1:6379/7"], "prefix": "layer-choice"},
        }})
    from channels.layers import get_channel_layer

    return get_channel_layer()


def receive(kind: str, ready: Any, results: Any) -> None:
    async def run() -> None:
        channel_layer = layer(kind)
        channel = await channel_layer.new_channel()
        await channel_layer.group_add(GROUP, channel)
        ready.set()
        latencies = []
        for _ in range(EVENTS):
            message = await channel_layer.receive(channel)
            latencies.append((time.perf_counter_ns() - message["sent"]) / 1e6)
        results.put(latencies)

    asyncio.run(run())


def send(kind: str) -> None:
    async def run() -> None:
        channel_layer = layer(kind)
        for seq in range(EVENTS):
            await channel_layer.group_send(GROUP, {
                "type": "realtime.changes", "model": "myproject.article",
                "events": [[seq, "1", "UPDATED", ["title"], {"title": "x"}]],
                "sent": time.perf_counter_ns(),
            })
            await asyncio.sleep(0.002)

    asyncio.run(run())


def main() -> None:
    stats = redis.Redis(db=7)
    for kind in LAYERS:
        ready, results = mp.Event(), mp.Queue()
        receiver = mp.Process(target=receive, args=(kind, ready, results))
        receiver.start()
        ready.wait()
        time.sleep(0.3)
        stats.config_resetstat()
        sender = mp.Process(target=send, args=(kind,))
        sender.start()
        sender.join()
        latencies = sorted(results.get(timeout=60))
        receiver.join()
        calls = {name: value["calls"] for name, value in (
                     (n.removeprefix("cmdstat_"), v) for n, v in stats.info("commandstats").items())
                 if not name.startswith(("config", "info", "hello", "select"))}
        print(f"{kind}: p50 {statistics.median(latencies):.3f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99)]:.3f} ms, "
              f"Redis commands per event {sum(calls.values()) / EVENTS:.1f} {calls}")


if __name__ == "__main__":
    main()
