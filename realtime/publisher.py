"""After a commit: sequence the new records and tell the subscribers' processes.

In a server process the hub is on the event loop: events go to it directly (it
delivers locally and forwards over the channel layer). In a process without a
hub (a shell, a worker) a small background thread sends them over the layer; with
the in-memory layer there is no one to tell, and the servers read the outbox.
The outbox is the source of truth, so a failed send only costs latency.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import threading
from collections import defaultdict
from concurrent.futures import Future
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import DatabaseError

from api_graphql import consistency
from realtime.conf import realtime_settings
from realtime.events import ChangeEvent, layer_group, layer_message
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


def by_model(events: list[ChangeEvent]) -> dict[str, list[ChangeEvent]]:
    grouped: dict[str, list[ChangeEvent]] = defaultdict(list)
    for event in events:
        grouped[event.model].append(event)
    return grouped


def publish(events: list[ChangeEvent]) -> None:
    from realtime.hub import running_hub
    from realtime.versions import table

    table.observe(events)  # before the writer's response: it reads its own writes
    for event in events:
        consistency.note(event.model, event.seq)  # the writer's X-Consistency-Cursor
    hub = running_hub()
    if hub is not None:
        hub.publish_threadsafe(events)
        return
    layer = get_channel_layer(realtime_settings().channel_layer)
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return
    _background().send(events)


async def send_to_layer(layer: Any, events: list[ChangeEvent]) -> None:
    for label, model_events in by_model(events).items():
        await layer.group_send(layer_group(label), layer_message(label, model_events))


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
        future = asyncio.run_coroutine_threadsafe(self._send(events), self.loop)
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
