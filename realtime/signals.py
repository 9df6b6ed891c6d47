"""Close a logged-out session's sockets, in every process, with 4403."""

from __future__ import annotations

import logging
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.contrib.auth.signals import user_logged_out

from realtime.conf import realtime_settings
from realtime.hub import SESSION_GROUP, SESSION_MESSAGE, running_hub, session_digest

logger = logging.getLogger(__name__)


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    digest = session_digest(key)
    message = {"type": SESSION_MESSAGE, "session": digest}
    hub = running_hub()
    if hub is not None:
        hub.loop.call_soon_threadsafe(hub.end_session, digest)
    layer = get_channel_layer(realtime_settings().channel_layer)
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return
    from realtime.publisher import _background

    sender_loop = _background()
    sender_loop.loop.call_soon_threadsafe(
        lambda: sender_loop.loop.create_task(_send(layer, message)))


async def _send(layer: Any, message: dict[str, Any]) -> None:
    try:
        await layer.group_send(SESSION_GROUP, message)
    except Exception as error:
        logger.warning("realtime: could not announce a logout: %s", error)


def connect() -> None:
    user_logged_out.connect(_on_logout, dispatch_uid="realtime.signals.logout")
