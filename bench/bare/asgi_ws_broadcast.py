"""The bare ASGI WebSocket broadcast app under daphne: daphne's own fan-out floor.

The same job as ``ws_broadcast`` (graphql-transport-ws handshake, one READY,
relay every Redis PUBLISH on ``BENCH_FLOOR_CHANNEL`` to every socket, frame
encoded once), but as a plain ASGI app served by daphne. Between it and ours the
difference is our code; between it and the bare websockets server the difference
is the server (daphne/Twisted/autobahn framing in Python, one ASGI ``send`` per
socket). No Channels, no Django.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

Send = Callable[[dict[str, Any]], Awaitable[None]]
CHANNEL = os.environ.get("BENCH_FLOOR_CHANNEL", "bench-floor-daphne")
subscribed: set[Send] = set()
_relay: asyncio.Task[None] | None = None


def frame(sub_id: str, event: dict[str, Any]) -> str:
    return orjson.dumps({"id": sub_id, "type": "next",
                         "payload": {"data": {"article_changes": event}}}).decode()


async def relay() -> None:
    client = aioredis.from_url(os.environ["REDIS_URL"])
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        text = frame("1", orjson.loads(message["data"]))
        for send in list(subscribed):
            try:
                await send({"type": "websocket.send", "text": text})
            except Exception:
                subscribed.discard(send)


async def application(scope: dict[str, Any], receive: Any, send: Send) -> None:
    global _relay
    if scope["type"] != "websocket":
        return
    if _relay is None:
        _relay = asyncio.get_running_loop().create_task(relay())
    try:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.connect":
                await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
            elif kind == "websocket.disconnect":
                return
            elif kind == "websocket.receive":
                data = orjson.loads(message.get("text") or message.get("bytes") or b"{}")
                if data.get("type") == "connection_init":
                    await send({"type": "websocket.send", "text": '{"type":"connection_ack"}'})
                elif data.get("type") == "subscribe":
                    subscribed.add(send)
                    await send({"type": "websocket.send", "text": frame(
                        data["id"], {"op": "READY", "cursor": None, "pk": None, "node": None,
                                     "changed_fields": None})})
    finally:
        subscribed.discard(send)
