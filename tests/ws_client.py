"""A graphql-transport-ws (or legacy graphql-ws) client over a real socket, for tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class GraphQLSocket:
    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol
        self.backlog: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, url: str, protocol: str = "graphql-transport-ws",
                   init: dict[str, Any] | None = None, acknowledge: bool = True,
                   **options: Any) -> GraphQLSocket:
        connection = await websockets.connect(url, subprotocols=[protocol],  # type: ignore[list-item]
                                              max_size=None, **options)
        socket = cls(connection, protocol)
        if acknowledge:
            await socket.send({"type": "connection_init", "payload": init or {}})
            ack = await socket.receive()
            assert ack["type"] == "connection_ack", ack
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        """The next message that is not a keep-alive (pings are answered)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            if message.get("type") == "ka":
                continue
            return message

    async def subscribe(self, op_id: str, query: str,
                        variables: dict[str, Any] | None = None) -> None:
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        await self.send({"type": kind, "id": op_id,
                         "payload": {"query": query, "variables": variables or {}}})

    async def next_for(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        """The next message of one operation (others wait in the backlog)."""
        for index, message in enumerate(self.backlog):
            if message.get("id") == op_id:
                return self.backlog.pop(index)
        while True:
            message = await self.receive(timeout)
            if message.get("id") == op_id:
                return message
            self.backlog.append(message)

    async def event(self, op_id: str, field: str, timeout: float = 10) -> dict[str, Any]:
        message = await self.next_for(op_id, timeout)
        assert message["type"] in ("next", "data"), message
        result: dict[str, Any] = message["payload"]["data"][field]
        return result

    async def closed(self, timeout: float = 10) -> tuple[int | None, str]:
        """Wait for the server to close; (code, reason)."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        except websockets.ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame else (None, "")

    async def close(self) -> None:
        await self.connection.close()
