"""Compose the project's ASGI application: Django for HTTP, GraphQL over WebSocket."""

from __future__ import annotations

from typing import Any

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import re_path

from realtime.consumer import GraphQLWebSocket
from realtime.hub import get_hub
from realtime.session import SessionUser


def websocket_application() -> Any:
    """``ws://HOST/graphql``, with Django's session user in ``scope["user"]``."""
    endpoint: Any = GraphQLWebSocket()
    return SessionUser(URLRouter([re_path(r"^graphql/?$", endpoint)]))


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
