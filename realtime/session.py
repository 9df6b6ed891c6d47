"""Django's session and user for a WebSocket, read once when it connects.

channels' ``AuthMiddlewareStack`` gives the same ``scope["user"]``, but its session
wrapper sits on the socket's ``send`` and inspects the session on every frame
written, which measured as most of the server's time per frame in a fan-out. A
GraphQL socket never changes the cookie session (login over a socket authenticates
that socket only), so reading it at connect is all that is needed.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth

from realtime.hub import database


class _Carrier:
    """What ``django.contrib.auth.get_user`` reads: a request with a session."""

    def __init__(self, session: Any) -> None:
        self.session = session


def _load(scope: dict[str, Any]) -> tuple[Any, Any]:
    headers = dict(scope.get("headers") or [])
    cookies = SimpleCookie()
    cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(morsel.value if morsel else None)
    return session, auth.get_user(_Carrier(session))  # type: ignore[arg-type]


class SessionUser:
    """ASGI middleware: ``scope["session"]`` and ``scope["user"]`` for WebSockets."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            session, user = await database(_load)(scope)
            scope = {**scope, "session": session, "user": user}
        await self.application(scope, receive, send)
