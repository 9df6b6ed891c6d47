"""Compose the project's ASGI application: Django for HTTP, GraphQL over WebSocket."""

from __future__ import annotations

from typing import Any

from channels.routing import ProtocolTypeRouter

from api_graphql.asgi import GRAPHQL_PATHS
from realtime.consumer import GraphQLWebSocket
from realtime.hub import get_hub
from realtime.session import SessionUser


class GraphQLPath:
    """Only ``ws://HOST/graphql`` opens; any other path is refused at the handshake
    (HTTP 403), before a session is read. (channels' URLRouter raises on an unknown
    path: daphne answers 500 and logs a traceback. It also copies the scope twice
    for every socket, which an idle one keeps.)"""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"].removeprefix(scope.get("root_path") or "")
        if path in GRAPHQL_PATHS:
            await self.application(scope, receive, send)
            return
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.close"})


def websocket_application() -> Any:
    """``ws://HOST/graphql``, with Django's session user in ``scope["user"]``."""
    return GraphQLPath(SessionUser(GraphQLWebSocket()))


class HubLifecycle:
    """Start this process's hub with the first connection of any kind: with Redis it
    listens to every model from then on (for subscriptions and the result cache)."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.started = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not self.started and scope["type"] in ("http", "websocket"):
            self.started = True
            await get_hub().start()
        await self.application(scope, receive, send)


def graphql_application(http_application: Any) -> Any:
    return HubLifecycle(ProtocolTypeRouter({
        "http": http_application,
        "websocket": websocket_application(),
    }))
