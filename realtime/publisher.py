"""Tell the subscribers' processes: committed changes, and sessions that ended.

In a server process the hub is on the event loop: events go to it directly (it
delivers locally and forwards over the channel layer). In a process without a
hub (a shell, a worker) a small background thread sends them over the layer; with
the in-memory layer there is no one to tell, and the servers read the outbox.
The outbox is the source of truth, so a failed send only costs latency.

A logout takes the same two ways: this process's hub closes the session's sockets
at once, every other process hears of it over the layer.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DatabaseError

from api_graphql import consistency
from realtime.conf import realtime_settings
from realtime.events import ChangeEvent, send_to_layer
from realtime.hub import SESSION_GROUP, SESSION_MESSAGE, running_hub
from realtime.outage import layer_outage
from realtime.sequencer import all_positions, assign_sequence

logger = logging.getLogger(__name__)


def flush_committed(using: str = "default") -> None:
    try:
        events = assign_sequence(using)
    except DatabaseError as error:
        logger.warning("realtime: sequencing deferred to the hub's poll: %s", error)
        return
    if events:
        publish(events)
    if consistency.collecting_now():
        # A hub woken by the triggers' NOTIFY may have sequenced this transaction's
        # records before this pass: the committed positions cover them either way.
        with contextlib.suppress(DatabaseError):
            for label, seq in all_positions(using).items():
                consistency.note(label, seq)


def publish(events: list[ChangeEvent]) -> None:
    from realtime.versions import table

    table.observe(events)  # before the writer's response: it reads its own writes
    for event in events:
        consistency.note(event.model, event.seq)  # the writer's X-Consistency-Cursor
    hub = running_hub()
    if hub is not None:
        hub.publish_threadsafe(events)
        return
    if _other_processes_listen():
        _background().send(events)


def session_ended(digest: str) -> None:
    """A session logged out (``digest``: ``hub.session_digest`` of its key): its sockets
    are closed with 4403 here and in every process the channel layer reaches."""
    hub = running_hub()
    if hub is not None:
        hub.loop.call_soon_threadsafe(hub.end_session, digest)
    if _other_processes_listen():
        _background().group_send(SESSION_GROUP, {"type": SESSION_MESSAGE, "session": digest})


def _other_processes_listen() -> bool:
    """Only a distributed layer reaches other processes (in memory, nobody listens)."""
    layer = get_channel_layer(realtime_settings().channel_layer)
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


class BackgroundSender:
    """An event loop on a daemon thread, for processes that have none."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pending: set[Future[None]] = set()
        thread = threading.Thread(target=self.loop.run_forever, name="realtime-publisher",
                                  daemon=True)
        thread.start()
        atexit.register(self.drain)

    def send(self, events: list[ChangeEvent]) -> None:
        self._submit(self._send(events))

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        self._submit(self._group_send(group, message))

    def _submit(self, coroutine: Coroutine[Any, Any, None]) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)

    async def _send(self, events: list[ChangeEvent]) -> None:
        try:
            layer = get_channel_layer(realtime_settings().channel_layer)
            await send_to_layer(layer, events)
        except Exception as error:  # the outbox still has them; the hubs' poll will
            layer_outage.failed(error)
        else:
            layer_outage.recovered()

    async def _group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            layer = get_channel_layer(realtime_settings().channel_layer)
            await layer.group_send(group, message)
        except Exception as error:  # nothing else carries it: say so
            logger.warning("realtime: could not tell the other processes (%s): %s",
                           message.get("type"), error)

    def drain(self, timeout: float = 2.0) -> None:
        for future in list(self.pending):
            with contextlib.suppress(Exception):
                future.result(timeout)


_sender: BackgroundSender | None = None
_sender_lock = threading.Lock()


def _background() -> BackgroundSender:
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = BackgroundSender()
        return _sender
