"""The GraphQL WebSocket endpoint: a plain ASGI app, one :class:`Connection` per socket.

Queries and mutations run on the same executor as HTTP. Subscriptions go to the
process's :class:`~realtime.hub.SubscriptionHub`, which writes payloads back
through :meth:`Connection.send_payload`. Each socket has a bounded send buffer
(a slow consumer is closed with 1013, and resumes from its cursor); pings, the
init timeout and token expiry are checked by one heartbeat task per process, so
an idle socket costs no task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any
from urllib.parse import urlparse

import orjson
from django.contrib.auth.models import AnonymousUser

from api_graphql import tokens
from api_graphql.conf import graphql_settings
from api_graphql.context import RequestContext
from api_graphql.errors import GraphQLUserError
from api_graphql.execution import RequestError, executor_for
from api_graphql.schema import get_schema
from realtime import render
from realtime.daphne_wire import immediate_send
from realtime.hub import Subscription, Unavailable, database, get_hub, group_key, with_retries
from realtime.protocol import PONG, PROTOCOLS, Action, Close, LegacyWS, Protocol, ProtocolError

logger = logging.getLogger(__name__)
#: A ping goes out after this many characters, so the backlog is always measured.
PING_EVERY = 256 * 1024


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Browsers: same host or a listed origin. No Origin header: as configured."""
    conf = graphql_settings()
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1")
    if not origin:
        return conf.ws_allow_no_origin
    if "*" in conf.ws_allowed_origins or origin in conf.ws_allowed_origins:
        return True
    host = headers.get(b"host", b"").decode("latin-1")
    return bool(host) and urlparse(origin).netloc == host


class Connection:
    """One socket: handshake, protocol, authentication, operations."""

    def __init__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        #: The server's send as a plain function, where it has one (daphne): frames
        #: then go out without a task per socket.
        self.send_now = immediate_send(send)
        self.protocol: Protocol | None = None
        self.context: RequestContext | None = None
        self.acknowledged = False
        self.init_received = False
        self.closed = False
        self.operations: dict[str, Subscription | asyncio.Task[None]] = {}
        # Lists, not deques: rarely more than a frame or two, and an idle socket keeps
        # them (an empty deque holds a 64-slot block).
        self.outbox: list[str] = []
        self.draining = False
        # Flow control: characters handed to the server, and how many of them the client
        # has shown it consumed (it answered a ping sent after them).
        self.sent = 0
        self.acknowledged_upto = 0
        self.pings: list[int] = []
        conf = graphql_settings()
        self.buffer_limit = conf.ws_send_buffer
        self.unacknowledged_limit = conf.ws_unacknowledged_limit
        self.max_message = conf.ws_max_message_size
        now = time.monotonic()
        self.init_deadline = now + conf.ws_init_timeout
        self.next_ping = now + conf.ws_ping_interval
        self.pong_deadline: float | None = None
        self.expires_at: float | None = None
        self.forget_session: Any = None

    # -- the socket ----------------------------------------------------------------
    async def run(self) -> None:
        message = await self.receive()
        if message["type"] != "websocket.connect":
            return
        if not origin_allowed(self.scope):
            await self.send({"type": "websocket.close", "code": 403})
            return
        offered = list(self.scope.get("subprotocols") or [])
        chosen = next((p for p in offered if p in PROTOCOLS), None)
        await self.send({"type": "websocket.accept",
                         **({"subprotocol": chosen} if chosen else {})})
        if chosen is None:
            await self.close(Close.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        self.protocol = PROTOCOLS[chosen]()
        heartbeat.add(self)
        try:
            while not self.closed:
                message = await self.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message["type"] == "websocket.receive":
                    await self.on_message(message)
        except ProtocolError as error:
            await self.close(error.code, error.reason)
        finally:
            self.closed = True
            heartbeat.discard(self)
            await self.release()

    async def on_message(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        if text is None:
            raise ProtocolError(Close.BAD_REQUEST, "Invalid message: binary frames are not used")
        limit = self.max_message  # in bytes; a character is at most 4 of them
        if len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
            raise ProtocolError(Close.MESSAGE_TOO_BIG, "Message too big")
        assert self.protocol is not None
        action = self.protocol.parse(text)
        handler = getattr(self, f"on_{action.kind}")
        await handler(action)

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self.send({"type": "websocket.close", "code": int(code), "reason": reason[:120]})

    def close_soon(self, code: int, reason: str) -> None:
        if not self.closed:
            asyncio.get_running_loop().create_task(self.close(code, reason))

    async def release(self) -> None:
        if self.forget_session is not None:
            self.forget_session()
        hub = get_hub()
        for operation in list(self.operations.values()):
            if isinstance(operation, Subscription):
                await hub.unsubscribe(operation)
            else:
                operation.cancel()
        self.operations.clear()
        self.outbox.clear()

    # -- sending -------------------------------------------------------------------
    def enqueue(self, frame: str) -> None:
        """Send a frame, at once when nothing waits before it (and the server allows
        it), else queued in order; a consumer too slow to keep up is closed with 1013.

        The server's own send never blocks (daphne buffers without limit), so the
        backlog is measured with the protocol: what was sent since the last ping the
        client answered. graphql-ws clients answer pings by themselves."""
        if self.closed:
            return
        if len(self.outbox) >= self.buffer_limit or self.lagging():
            self.close_slow_consumer()
            return
        if self.send_now is not None and not self.outbox and not self.draining:
            try:
                self.send_now({"type": "websocket.send", "text": frame})
            except Exception:
                self.closed = True
                return
            self.after_send(frame)
            return
        self.outbox.append(frame)
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self.outbox and not self.closed:
                frame = self.outbox.pop(0)
                await self.send({"type": "websocket.send", "text": frame})
                self.after_send(frame)
        except Exception:
            self.closed = True
        finally:
            self.draining = False

    def after_send(self, frame: str) -> None:
        """Flow control: count what was sent; a ping marks how far the client will have
        read when it answers."""
        assert self.protocol is not None
        ping = self.protocol.ping()
        self.sent += len(frame)
        if frame is ping and not isinstance(self.protocol, LegacyWS):
            self.pings.append(self.sent)
        elif self.lagging():
            self.close_slow_consumer()
        elif (not self.pings and ping is not None
              and self.sent - self.acknowledged_upto > PING_EVERY):
            self.ping(time.monotonic())

    def lagging(self) -> bool:
        """More sent than the client has shown it read, with a ping outstanding."""
        return bool(self.pings) and (
            self.sent - self.acknowledged_upto > self.unacknowledged_limit)

    def close_slow_consumer(self) -> None:
        self.outbox.clear()
        self.close_soon(Close.TRY_AGAIN_LATER, "Slow consumer: send buffer full")

    def ping(self, now: float) -> None:
        """Ping (graphql-transport-ws) or keep-alive (legacy); expect the pong in time."""
        assert self.protocol is not None
        frame = self.protocol.ping()
        if frame is None:
            return
        self.enqueue(frame)
        if not isinstance(self.protocol, LegacyWS) and self.pong_deadline is None:
            self.pong_deadline = now + graphql_settings().ws_pong_timeout

    def fail(self, op_id: str, errors: list[dict[str, Any]]) -> None:
        """The hub ended this subscription with an error."""
        if self.operations.pop(op_id, None) is not None and self.protocol is not None:
            self.enqueue(self.protocol.error(op_id, errors))

    def send_payload(self, op_id: str, payload: str) -> None:
        """Called by the hub with a payload shared by every member of a group."""
        if op_id in self.operations:
            assert self.protocol is not None
            self.enqueue(self.protocol.next_frame(op_id, payload))

    # -- actions -------------------------------------------------------------------
    async def on_init(self, action: Action) -> None:
        assert self.protocol is not None
        if self.init_received:
            raise ProtocolError(Close.TOO_MANY_INITS, "Too many initialisation requests")
        self.init_received = True
        payload = action.payload or {}
        header = payload.get("authorization") or payload.get("Authorization")
        user = self.scope.get("user") or AnonymousUser()
        if header:
            token = tokens.strip_scheme(header) or header
            try:
                token_user = await database(tokens.authenticate)(token)
            except tokens.InvalidToken as error:
                if isinstance(self.protocol, LegacyWS):
                    self.enqueue(self.protocol.connection_error(f"Forbidden: {error}"))
                raise ProtocolError(Close.FORBIDDEN, f"Forbidden: {error}") from None
            user, self.expires_at = token_user.user, token_user.expires_at
        elif getattr(user, "is_authenticated", False):
            session = self.scope.get("session")
            key = getattr(session, "session_key", None)
            if key:
                self.forget_session = get_hub().watch_session(
                    key, lambda: self.close_soon(Close.FORBIDDEN, "Forbidden: logged out"))
        client = self.scope.get("client") or ("unknown", 0)
        self.context = RequestContext(get_schema(), user, None, "websocket",
                                      client_address=str(client[0]))
        self.acknowledged = True
        self.enqueue(self.protocol.ack())

    async def on_ping(self, action: Action) -> None:
        assert isinstance(self.protocol, Protocol)
        self.enqueue(PONG)

    async def on_pong(self, action: Action) -> None:
        if self.pings:
            self.acknowledged_upto = self.pings.pop(0)
        if not self.pings:
            self.pong_deadline = None

    async def on_terminate(self, action: Action) -> None:
        await self.close(Close.NORMAL, "")

    async def on_complete(self, action: Action) -> None:
        operation = self.operations.pop(action.id or "", None)
        if isinstance(operation, Subscription):
            await get_hub().unsubscribe(operation)
        elif operation is not None:
            operation.cancel()

    async def on_subscribe(self, action: Action) -> None:
        assert self.protocol is not None
        if not self.acknowledged:
            raise ProtocolError(Close.UNAUTHORIZED, "Unauthorized")
        op_id = action.id or ""
        if op_id in self.operations:
            raise ProtocolError(Close.DUPLICATE_ID, f"Subscriber for {op_id} already exists")
        payload = action.payload
        variables = payload.get("variables")
        try:
            assert self.context is not None
            executor = executor_for(self.context.built)
            prepared = executor.prepare(payload["query"], payload.get("operationName"))
            if prepared.kind != "subscription":
                task = asyncio.get_running_loop().create_task(
                    self._run_operation(op_id, prepared, variables))
                self.operations[op_id] = task
                return
            await self._subscribe(op_id, executor, prepared, variables)
        except Unavailable:
            self.enqueue(self.protocol.error(op_id, [render.UNAVAILABLE_ERROR]))
        except RequestError as error:
            self.enqueue(self.protocol.error(op_id, error.errors))
        except GraphQLUserError as error:
            self.enqueue(self.protocol.error(op_id, [error.as_dict()]))

    async def _run_operation(self, op_id: str, prepared: Any, variables: Any) -> None:
        assert self.protocol is not None and self.context is not None
        executor = executor_for(self.context.built)
        try:
            result = await database(executor.execute_prepared)(self.context, prepared, variables)
        except RequestError as error:
            self.operations.pop(op_id, None)
            self.enqueue(self.protocol.error(op_id, error.errors))
            return
        if self.operations.pop(op_id, None) is None:
            return  # completed by the client meanwhile
        self.enqueue(self.protocol.next_frame(op_id, orjson.dumps(result).decode()))
        self.enqueue(self.protocol.complete(op_id))

    async def _subscribe(self, op_id: str, executor: Any, prepared: Any, variables: Any) -> None:
        assert self.context is not None
        conf = graphql_settings()
        active = sum(isinstance(op, Subscription) for op in self.operations.values())
        if active >= conf.ws_max_subscriptions:
            raise GraphQLUserError(
                f"Too many subscriptions on this connection (limit {conf.ws_max_subscriptions}).",
            )
        selections = executor.plan(prepared, variables).selections
        if len(selections) != 1:
            raise GraphQLUserError("A subscription operation selects exactly one root field.")
        (selection,) = selections.values()
        root_field = self.context.built.root_fields["subscription"].get(selection.name)
        if root_field is None or root_field.model_spec is None:
            raise GraphQLUserError(f"{selection.name} cannot be subscribed to here.")
        spec = root_field.model_spec
        after = _cursor(selection.args.get("after"))
        condition = await with_retries(render.Condition, self.context, spec, selection)
        key = group_key(spec, prepared.document.loc.source.body if prepared.document.loc else "",
                        variables or {}, _after_variable(selection), self.context.scope.key)
        placeholder = asyncio.get_running_loop().create_future()
        self.operations[op_id] = placeholder  # type: ignore[assignment]
        try:
            subscription = await get_hub().subscribe(
                self, op_id, self.context, spec, selection, condition, key, after)
        except BaseException:
            if self.operations.get(op_id) is placeholder:
                del self.operations[op_id]
            raise
        finally:
            placeholder.cancel()
        if self.operations.get(op_id) is placeholder:
            self.operations[op_id] = subscription
        else:
            await get_hub().unsubscribe(subscription)


def _cursor(value: Any) -> int | None:
    if value is None:
        return None
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        raise GraphQLUserError(f"Invalid cursor {value!r}.") from None
    if cursor < 0:
        raise GraphQLUserError(f"Invalid cursor {value!r}.")
    return cursor


def _after_variable(selection: Any) -> str | None:
    for node in selection.nodes:
        for argument in node.arguments or ():
            if argument.name.value == "after" and argument.value.kind == "variable":
                return str(argument.value.name.value)
    return None


class Heartbeat:
    """One task per process: pings, pong and init timeouts, token expiry."""

    def __init__(self) -> None:
        self.connections: weakref.WeakSet[Connection] = weakref.WeakSet()
        self.task: asyncio.Task[None] | None = None

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, connection: Connection) -> None:
        self.connections.discard(connection)

    async def _run(self) -> None:
        while self.connections:
            await asyncio.sleep(1.0)
            conf = graphql_settings()
            now = time.monotonic()
            wall = time.time()
            for connection in list(self.connections):
                self.check(connection, now, wall, conf)

    @staticmethod
    def check(connection: Connection, now: float, wall: float, conf: Any) -> None:
        if connection.closed or connection.protocol is None:
            return
        if not connection.init_received and now > connection.init_deadline:
            connection.close_soon(Close.TIMEOUT, "Connection initialisation timeout")
        elif connection.expires_at is not None and wall >= connection.expires_at:
            connection.close_soon(Close.FORBIDDEN, "Forbidden: token expired")
        elif connection.pong_deadline is not None and now > connection.pong_deadline:
            connection.close_soon(Close.TIMEOUT, "Pong timeout")
        elif now >= connection.next_ping and connection.acknowledged:
            connection.next_ping = now + conf.ws_ping_interval
            if not connection.pings:
                connection.ping(now)


heartbeat = Heartbeat()


async def close_all(code: int, reason: str) -> int:
    """Close every live socket of this process, e.g. with 1001 on shutdown; how many.

    Each connection then releases its subscriptions as on any close."""
    connections = [c for c in list(heartbeat.connections) if not c.closed]
    for connection in connections:
        await connection.close(code, reason)
    return len(connections)


class GraphQLWebSocket:
    """The ASGI application for ``ws://.../graphql``."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await Connection(scope, receive, send).run()

