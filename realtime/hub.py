"""The SubscriptionHub: one per worker process, between the channel layer and sockets.

Per model with subscribers, the hub holds one :class:`ModelStream` with one
channel-layer membership, never one per subscription. Identical subscriptions
(same document, variables and permission scope) form a :class:`SubscriptionGroup`:
for each event its selection runs once, and the same serialized payload goes to
every member. Each stream delivers events strictly in seq order: a gap (an event
that arrived out of order, or a process that died before publishing) is filled
from the outbox, so a subscriber never skips a cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import orjson
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import InterfaceError, OperationalError, close_old_connections
from django.utils import timezone

from api_graphql.context import RequestContext
from api_graphql.model_graph import ModelSpec
from api_graphql.selection import FieldSelection
from realtime import render, triggers
from realtime.capture import concrete, exposed_models
from realtime.conf import realtime_settings
from realtime.events import MESSAGE_TYPE, ChangeEvent, layer_group
from realtime.outage import database_outage, layer_outage, quiet_channels_redis
from realtime.publisher import by_model, send_to_layer
from realtime.sequencer import position
from realtime.versions import table as versions

logger = logging.getLogger(__name__)
SESSION_GROUP = "realtime.sessions"
SESSION_MESSAGE = "realtime.session_ended"


class Sink(Protocol):
    """Where a subscription's payloads go: a socket, framed by its protocol."""

    def send_payload(self, op_id: str, payload: str) -> None: ...

    def fail(self, op_id: str, errors: list[dict[str, Any]]) -> None: ...


def database(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Run ORM code off the event loop, closing stale connections like a request does."""

    def run(*args: Any) -> Any:
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=True)


#: What a database restart, a failover or a dropped connection raises: worth a retry.
TRANSIENT = (OperationalError, InterfaceError)
#: How long a new subscription waits for the database before it is told UNAVAILABLE.
OPEN_PATIENCE = 30.0
RETRY_FIRST, RETRY_MAX = 0.05, 0.5


class Unavailable(Exception):
    """The database stayed unreachable longer than a subscription can wait for it."""


outage = database_outage


async def with_retries(function: Callable[..., Any], *args: Any,
                       patience: float | None = OPEN_PATIENCE) -> Any:
    """``database(function)(*args)``, retried with backoff while the database is
    unreachable: the caller sees a delay, not an error. After ``patience`` seconds
    (None: never) :class:`Unavailable`."""
    delay = RETRY_FIRST
    give_up = None if patience is None else time.monotonic() + patience
    while True:
        try:
            result = await database(function)(*args)
        except TRANSIENT as error:
            outage.failed(error)
            if give_up is not None and time.monotonic() + delay > give_up:
                raise Unavailable(str(error)) from error
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            continue
        outage.recovered()
        return result


@dataclass(eq=False)
class Subscription:
    op_id: str
    sink: Sink
    group: SubscriptionGroup
    #: Live payloads at or below this seq were already delivered (by a replay).
    floor: int = 0
    #: Payloads held while a resume replays what was missed.
    held: list[tuple[int, str]] | None = None
    user_key: str = ""

    def deliver(self, seq: int, payload: str) -> None:
        if seq <= self.floor:
            return
        if self.held is not None:
            self.held.append((seq, payload))
        else:
            self.sink.send_payload(self.op_id, payload)


@dataclass(eq=False)
class SubscriptionGroup:
    key: str
    spec: ModelSpec
    selection: FieldSelection
    context: RequestContext
    #: The readable rows matching the filter (a ``render.Condition``).
    condition: Any
    members: set[Subscription] = field(default_factory=set)
    #: Selection executions, for the benchmarks and the tests.
    executions: int = 0


@dataclass(eq=False)
class ModelStream:
    label: str
    last_seq: int
    groups: dict[str, SubscriptionGroup] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def group_key(spec: ModelSpec, query: str, variables: dict[str, Any], after_variable: str | None,
              scope_key: str) -> str:
    shared = {k: v for k, v in variables.items() if k != after_variable}
    digest = hashlib.blake2b(digest_size=16)
    for part in (spec.label, query, orjson.dumps(shared, option=orjson.OPT_SORT_KEYS).decode(),
                 scope_key):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class SubscriptionHub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        conf = realtime_settings()
        self.layer = get_channel_layer(conf.channel_layer)
        self.distributed = self.layer is not None and not isinstance(
            self.layer, InMemoryChannelLayer)
        self.poll_interval = conf.poll_interval or (2.0 if self.distributed else 0.25)
        self.streams: dict[str, ModelStream] = {}
        self.channel: str | None = None
        self.sessions: dict[str, set[Callable[[], None]]] = {}
        self._opening: dict[str, asyncio.Future[ModelStream]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._woken = asyncio.Event()
        self.counters = {"events_published": 0, "events_delivered": 0, "payloads_sent": 0,
                         "selection_executions": 0, "resumes": 0, "resyncs": 0}

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.layer is not None:
            quiet_channels_redis()
            self.channel = await self.layer.new_channel()
            await self.layer.group_add(SESSION_GROUP, self.channel)
            if self.distributed:
                # One membership per model for the life of the process: every change
                # reaches this process, for subscribers and for the result cache.
                for label in sorted({concrete(m)._meta.label_lower
                                     for m in exposed_models()}):
                    await self.layer.group_add(layer_group(label), self.channel)
            self._tasks.append(self.loop.create_task(self._receive()))
        self._tasks.append(self.loop.create_task(self._poll()))
        if listen_params() is not None:
            self._tasks.append(self.loop.create_task(self._listen()))
        await self._check_capture()
        if self.distributed:
            await database(versions.refresh)()
            versions.live = True

    async def _check_capture(self) -> None:
        global _capture_checked
        if _capture_checked:
            return
        _capture_checked = True
        missing = await with_retries(triggers.missing)
        if missing:
            logger.warning("realtime: changes to %s are not captured (their triggers are "
                           "missing or out of date): run migrate", ", ".join(missing))

    async def stop(self) -> None:
        versions.live = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.layer is not None and self.channel is not None and self.distributed:
            for label in sorted({concrete(m)._meta.label_lower for m in exposed_models()}):
                with contextlib.suppress(Exception):
                    await self.layer.group_discard(layer_group(label), self.channel)
            with contextlib.suppress(Exception):
                await self.layer.group_discard(SESSION_GROUP, self.channel)
        self.streams.clear()
        self._started = False

    @property
    def subscription_count(self) -> int:
        return sum(len(g.members) for s in self.streams.values() for g in s.groups.values())

    # -- streams -------------------------------------------------------------------
    async def _stream(self, label: str) -> ModelStream:
        stream = self.streams.get(label)
        if stream is not None:
            return stream
        opening = self._opening.get(label)
        if opening is not None:
            return await opening
        future: asyncio.Future[ModelStream] = self.loop.create_future()
        self._opening[label] = future
        try:
            await self.start()  # listening first, position second: nothing slips between
            last = await with_retries(position, label)
            stream = ModelStream(label, last)
            self.streams[label] = stream
            future.set_result(stream)
            return stream
        except BaseException as error:
            future.set_exception(error)
            raise
        finally:
            self._opening.pop(label, None)

    async def _close_if_empty(self, stream: ModelStream) -> None:
        if stream.groups or self.streams.get(stream.label) is not stream:
            return
        del self.streams[stream.label]

    # -- subscribing ---------------------------------------------------------------
    async def subscribe(self, sink: Sink, op_id: str, context: RequestContext, spec: ModelSpec,
                        selection: FieldSelection, condition: Any, key: str,
                        after: int | None) -> Subscription:
        """Register a subscription; READY (or the replay, then READY) is sent from here."""
        await self.start()
        label = render.stream_label(spec)
        stream = await self._stream(label)
        async with stream.lock:
            group = stream.groups.get(key)
            if group is None:
                group = SubscriptionGroup(key, spec, selection, context, condition)
                stream.groups[key] = group
            subscription = Subscription(op_id, sink, group, floor=stream.last_seq)
            group.members.add(subscription)
            start = stream.last_seq
            if after is None:
                sink.send_payload(op_id, render.marker(group, "READY", start))
                return subscription
            subscription.held = []
            subscription.floor = max(start, after)
        self.counters["resumes"] += 1
        try:
            replay = await with_retries(render.replay, group, label, after, start)
        except Unavailable:
            await self.unsubscribe(subscription)
            raise
        except Exception:
            logger.exception("realtime: replay failed")
            replay = None
        if replay is None:
            self.counters["resyncs"] += 1
            subscription.floor = start  # the client's cursor meant nothing here
            sink.send_payload(op_id, render.marker(group, "RESYNC", start))
        else:
            for _, payload in replay:
                sink.send_payload(op_id, payload)
            sink.send_payload(op_id, render.marker(group, "READY", max(start, after)))
        held, subscription.held = subscription.held or [], None
        for _, payload in held:
            sink.send_payload(op_id, payload)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        group = subscription.group
        group.members.discard(subscription)
        if group.members:
            return
        stream = self.streams.get(render.stream_label(group.spec))
        if stream is not None and stream.groups.get(group.key) is group:
            del stream.groups[group.key]
            await self._close_if_empty(stream)

    # -- sessions ------------------------------------------------------------------
    def watch_session(self, session_key: str, on_end: Callable[[], None]) -> Callable[[], None]:
        digest = session_digest(session_key)
        self.sessions.setdefault(digest, set()).add(on_end)

        def forget() -> None:
            callbacks = self.sessions.get(digest)
            if callbacks is not None:
                callbacks.discard(on_end)
                if not callbacks:
                    del self.sessions[digest]

        return forget

    def end_session(self, digest: str) -> None:
        for callback in list(self.sessions.get(digest, ())):
            callback()

    # -- events in -----------------------------------------------------------------
    def publish_threadsafe(self, events: list[ChangeEvent]) -> None:
        """From a thread of this process that just committed.

        Local subscribers are served on the loop. Other processes are told before
        this returns (a Redis PUBLISH, well under a millisecond), so the writer's
        next request, on whichever worker, finds their caches already invalidated.
        """
        self.loop.call_soon_threadsafe(self._publish_local, events)
        if not self.distributed:
            return
        forwarded = asyncio.run_coroutine_threadsafe(self._forward(events), self.loop)
        try:
            asyncio.get_running_loop()
            return  # called on an event loop: never block it
        except RuntimeError:
            pass
        with contextlib.suppress(Exception):
            forwarded.result(timeout=0.5)

    def _publish_local(self, events: list[ChangeEvent]) -> None:
        self.counters["events_published"] += len(events)
        for label, model_events in by_model(events).items():
            if label in self.streams:
                self.loop.create_task(self.deliver(label, model_events))

    async def _forward(self, events: list[ChangeEvent]) -> None:
        try:
            await send_to_layer(self.layer, events)
        except Exception as error:
            layer_outage.failed(error)
        else:
            layer_outage.recovered()

    async def _receive(self) -> None:
        assert self.layer is not None and self.channel is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                layer_outage.failed(error)
                await asyncio.sleep(0.2)
                continue
            kind = message.get("type")
            if kind == MESSAGE_TYPE:
                label = message["model"]
                events = [ChangeEvent.from_wire(label, item) for item in message["events"]]
                versions.observe(events)
                if label in self.streams:
                    self.loop.create_task(self.deliver(label, events))
            elif kind == SESSION_MESSAGE:
                self.end_session(message["session"])

    async def _listen(self) -> None:
        """PostgreSQL: the capture triggers NOTIFY at commit; each notification wakes
        the poll at once (psql, other programs, a writer that died before sequencing)."""
        import psycopg

        params = listen_params()
        assert params is not None
        delay = RETRY_FIRST
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(**params, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {triggers.NOTIFY_CHANNEL}")
                    delay = RETRY_FIRST
                    self._woken.set()  # whatever committed while nobody listened
                    async for _ in connection.notifies():
                        self._woken.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                outage.failed(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    async def _poll(self) -> None:
        """Read what other processes committed: every ``poll_interval``, or at once when
        a NOTIFY wakes it. The only path with the in-memory layer, a safety net behind
        Redis. Also sequences records no process of ours sequenced."""
        retention = realtime_settings().retention
        last_prune = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.poll_interval)
            self._woken.clear()
            try:
                labels = list(self.streams)
                if labels or self.distributed:
                    await database(render.sequence_orphans)()
                if self.distributed:
                    await database(versions.refresh)()
                for label in labels:
                    stream = self.streams.get(label)
                    if stream is not None:
                        await self.deliver(label, [], catch_up=True)
                if time.monotonic() - last_prune > 300:
                    last_prune = time.monotonic()
                    await database(prune)(retention)
            except asyncio.CancelledError:
                raise
            except TRANSIENT as error:
                outage.failed(error)  # the next poll tries again
            except Exception:
                logger.exception("realtime: poll failed")

    # -- events out ----------------------------------------------------------------
    async def deliver(self, label: str, events: list[ChangeEvent], catch_up: bool = False) -> None:
        stream = self.streams.get(label)
        if stream is None:
            return
        async with stream.lock:
            fresh = sorted((e for e in events if e.seq > stream.last_seq), key=lambda e: e.seq)
            contiguous = all(e.seq == stream.last_seq + 1 + i for i, e in enumerate(fresh))
            # A database that is down delays delivery, it never fails it: the
            # records wait in the outbox and the stream retries until it is back.
            if catch_up or not contiguous:
                fresh = await with_retries(render.records_after, label, stream.last_seq,
                                           patience=None)
            if not fresh:
                return
            groups = list(stream.groups.values())
            executed = sum(g.executions for g in groups)
            rendered = await with_retries(render.render_groups, groups, fresh, patience=None)
            self.counters["selection_executions"] += sum(g.executions for g in groups) - executed
            stream.last_seq = fresh[-1].seq
            self.counters["events_delivered"] += len(fresh)
            for group, payloads in rendered:
                if payloads is None:
                    for subscription in list(group.members):
                        subscription.sink.fail(subscription.op_id, [render.INTERNAL_ERROR])
                        await self.unsubscribe(subscription)
                    continue
                for seq, payload in payloads:
                    for subscription in list(group.members):
                        subscription.deliver(seq, payload)
                        self.counters["payloads_sent"] += 1


def listen_params() -> dict[str, Any] | None:
    """psycopg connection parameters of the default database, when it is PostgreSQL."""
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "postgresql":
        return None
    settings = connection.settings_dict
    params: dict[str, Any] = {key: value for key, value in (settings.get("OPTIONS") or {}).items()
              if isinstance(value, str | int) and key not in {
                  "isolation_level", "assume_role", "server_side_binding", "pool"}}
    params.update(dbname=settings["NAME"], user=settings.get("USER") or None,
                  password=settings.get("PASSWORD") or None,
                  host=settings.get("HOST") or None, port=settings.get("PORT") or None)
    return {key: value for key, value in params.items() if value is not None}


def session_digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def prune(retention: float) -> int:
    """Delete change records older than the retention window (resumes beyond it RESYNC)."""
    from realtime.models import ChangeRecord

    cutoff = timezone.now() - timedelta(seconds=retention)
    deleted, _ = ChangeRecord.objects.filter(created_at__lt=cutoff, seq__isnull=False).delete()
    return deleted


_hub: SubscriptionHub | None = None
_capture_checked = False


def get_hub() -> SubscriptionHub:
    """The hub of this process, bound to the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop or loop.is_closed():
        _hub = SubscriptionHub(loop)
    return _hub


def running_hub() -> SubscriptionHub | None:
    hub = _hub
    if hub is None or hub.loop.is_closed() or not hub.loop.is_running():
        return None
    return hub

