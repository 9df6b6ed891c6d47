"""Close a logged-out session's sockets, in every process, with 4403."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out

from realtime.hub import session_digest
from realtime.publisher import session_ended


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    session_ended(session_digest(key))


def connect() -> None:
    user_logged_out.connect(_on_logout, dispatch_uid="realtime.signals.logout")
