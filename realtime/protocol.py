"""The two GraphQL WebSocket protocols, spelled out.

``graphql-transport-ws`` (the graphql-ws library, current) and the legacy
``graphql-ws`` (subscriptions-transport-ws). A :class:`Protocol` turns incoming
messages into the handful of actions the connection understands and frames the
outgoing ones; everything else about a connection is protocol-independent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PING = '{"type":"ping"}'
PONG = '{"type":"pong"}'
KEEP_ALIVE = '{"type":"ka"}'


class Close(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    TIMEOUT = 4408
    DUPLICATE_ID = 4409
    TOO_MANY_INITS = 4429


class ProtocolError(Exception):
    """The peer broke the protocol: close with ``code``."""

    def __init__(self, code: Close, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Action:
    """What an incoming message asks: init, subscribe, complete, ping, pong, terminate."""

    kind: str
    id: str | None = None
    payload: Any = None


def _json(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


class Protocol(ABC):
    name: str
    incoming: dict[str, str]

    def parse(self, text: str) -> Action:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ProtocolError(Close.BAD_REQUEST, "Invalid message: not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError(Close.BAD_REQUEST, "Invalid message: no type")
        kind = self.incoming.get(message["type"])
        if kind is None:
            raise ProtocolError(Close.BAD_REQUEST, f"Invalid message type {message['type']!r}")
        op_id = message.get("id")
        if kind in ("subscribe", "complete") and (not isinstance(op_id, str) or not op_id):
            raise ProtocolError(Close.BAD_REQUEST, "Invalid message: id must be a string")
        payload = message.get("payload")
        if kind == "subscribe" and (not isinstance(payload, dict)
                                    or not isinstance(payload.get("query"), str)):
            raise ProtocolError(Close.BAD_REQUEST, "Invalid message: subscribe needs a query")
        if kind == "init" and payload is not None and not isinstance(payload, dict):
            raise ProtocolError(Close.BAD_REQUEST, "Invalid message: payload must be an object")
        return Action(kind, op_id, payload)

    def ack(self, payload: dict[str, Any] | None = None) -> str:
        return _json({"type": "connection_ack", **({"payload": payload} if payload else {})})

    @abstractmethod
    def next_frame(self, op_id: str, payload: str) -> str:
        """A result frame around an already serialized ``{"data": ...}`` payload."""

    @abstractmethod
    def error(self, op_id: str, errors: list[dict[str, Any]]) -> str:
        """An operation's errors (the operation ends; the socket stays)."""

    def complete(self, op_id: str) -> str:
        return _json({"type": "complete", "id": op_id})

    def ping(self) -> str | None:
        return None


class TransportWS(Protocol):
    """graphql-transport-ws: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md"""

    name = TRANSPORT_WS
    incoming = {"connection_init": "init", "subscribe": "subscribe", "complete": "complete",
                "ping": "ping", "pong": "pong"}

    def next_frame(self, op_id: str, payload: str) -> str:
        return '{"id":' + orjson.dumps(op_id).decode() + ',"type":"next","payload":' + payload + "}"

    def error(self, op_id: str, errors: list[dict[str, Any]]) -> str:
        return _json({"id": op_id, "type": "error", "payload": errors})

    def ping(self) -> str:
        return PING


class LegacyWS(Protocol):
    """subscriptions-transport-ws (subprotocol ``graphql-ws``), for older clients."""

    name = LEGACY_WS
    incoming = {"connection_init": "init", "start": "subscribe", "stop": "complete",
                "connection_terminate": "terminate"}

    def next_frame(self, op_id: str, payload: str) -> str:
        return '{"id":' + orjson.dumps(op_id).decode() + ',"type":"data","payload":' + payload + "}"

    def error(self, op_id: str, errors: list[dict[str, Any]]) -> str:
        # The legacy protocol's "error" carries one error object, not a list.
        return _json({"id": op_id, "type": "error", "payload": errors[0] if errors else {}})

    def ping(self) -> str:
        return KEEP_ALIVE

    def connection_error(self, message: str) -> str:
        return _json({"type": "connection_error", "payload": {"message": message}})


PROTOCOLS: dict[str, type[Protocol]] = {TRANSPORT_WS: TransportWS, LEGACY_WS: LegacyWS}
