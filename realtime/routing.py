"""Compose the project's ASGI application: Django for HTTP, GraphQL over WebSocket."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import re_path

from realtime.consumer import GraphQLWebSocket


def websocket_application() -> Any:
    """``ws://HOST/graphql``, with Django's session user in ``scope["user"]``."""
    endpoint: Any = GraphQLWebSocket()
    return AuthMiddlewareStack(URLRouter([re_path(r"^graphql/?$", endpoint)]))


def graphql_application(http_application: Any) -> Any:
    return ProtocolTypeRouter({
        "http": http_application,
        "websocket": websocket_application(),
    })
