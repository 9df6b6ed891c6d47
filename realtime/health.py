"""Health endpoints for a load balancer or an orchestrator.

``/healthz`` (liveness): the process answers; it touches nothing else, so a
database outage never gets healthy workers restarted. ``/readyz`` (readiness):
the database and the channel layer answer; 503 otherwise, so a balancer sends no
traffic to a worker that could not serve it, and a worker that is shutting down
(see ``realtime.server``) reports itself not ready.

Both are async views: under ASGI they run on the server's event loop, where the
channel layer's connections live, and cost no thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from realtime.conf import realtime_settings

#: How long one dependency may take to answer before it counts as down (seconds).
CHECK_TIMEOUT = 3.0

#: Set by the graceful runner on SIGTERM: a draining worker is alive but not ready.
draining = False


async def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


async def readyz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": await _check(_database),
        "channel_layer": await _check(_channel_layer),
    }
    if draining:
        checks["shutdown"] = "draining"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
    except TimeoutError:
        return f"timeout after {CHECK_TIMEOUT:g}s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:200]
    return "ok"


def _select_one() -> None:
    # Django's request cycle closes this connection afterwards (request_finished),
    # in this same thread, as for any view.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _database() -> None:
    await sync_to_async(_select_one, thread_sensitive=True)()


async def _channel_layer() -> None:
    layer = get_channel_layer(realtime_settings().channel_layer)
    if layer is None:
        raise RuntimeError("no channel layer configured")
    if isinstance(layer, InMemoryChannelLayer):
        return  # lives in this process: up as long as we are
    if type(layer).__name__ == "RedisPubSubChannelLayer":
        # A PUBLISH that nobody listens to: proves Redis takes writes and leaves
        # nothing behind (new_channel() here would subscribe, for good).
        await layer.send("readyz.probe", {"type": "readyz"})
        return
    # List-based layers: a round trip through a channel only we read.
    channel = await layer.new_channel("readyz.")
    await layer.send(channel, {"type": "readyz"})
    await layer.receive(channel)
