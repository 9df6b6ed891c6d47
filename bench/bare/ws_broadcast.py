"""The bare websockets broadcast server: the fan-out and latency floor.

It speaks just enough graphql-transport-ws for the benchmark client
(``connection_init`` -> ``connection_ack``; ``subscribe`` -> one READY event) and
relays every message PUBLISHed on the Redis channel ``BENCH_FLOOR_CHANNEL`` to every
subscribed socket with ``websockets.broadcast()``: the frame is encoded once and
written without awaiting, the fastest fan-out websockets offers. Compression is
off, as in daphne. Nothing else happens: no database, no GraphQL, no permission.

    python -m bench.bare.ws_broadcast --port 8765 --redis redis://127.0.0.1:6379/9
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
from typing import Any

import orjson
import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

CHANNEL = os.environ.get("BENCH_FLOOR_CHANNEL", "bench-floor")
subscribed: set[ServerConnection] = set()


def frame(sub_id: str, event: dict[str, Any]) -> str:
    return orjson.dumps({"id": sub_id, "type": "next",
                         "payload": {"data": {"article_changes": event}}}).decode()


async def handler(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            data = orjson.loads(message)
            kind = data.get("type")
            if kind == "connection_init":
                await ws.send('{"type":"connection_ack"}')
            elif kind == "subscribe":
                subscribed.add(ws)
                await ws.send(frame(data["id"], {"op": "READY", "cursor": None, "pk": None,
                                                 "node": None, "changed_fields": None}))
            elif kind == "ping":
                await ws.send('{"type":"pong"}')
    finally:
        subscribed.discard(ws)


async def relay(url: str) -> None:
    client = aioredis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        event = orjson.loads(message["data"])
        # Every benchmark client subscribes with id "1", so one frame fits all.
        broadcast(subscribed, frame("1", event))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with serve(handler, "127.0.0.1", args.port, compression=None,
                     subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                     ping_interval=20, max_queue=None, backlog=4096):
        await relay(args.redis)


if __name__ == "__main__":
    asyncio.run(main())
