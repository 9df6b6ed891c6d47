"""Let daphne close a WebSocket with any registered code and with its reason.

daphne hands ``websocket.close`` to autobahn's ``sendClose``, which drops the
reason (django/daphne#374) and refuses the registered codes a server needs: 1001
(going away, on shutdown), 1009 (message too big) and 1013 (try again later, a
slow consumer). RFC 6455 lets a server send all of them; autobahn's own
``sendCloseFrame`` does, so closes go through it. Other ASGI servers already
honour code and reason and are left alone.
"""

from __future__ import annotations

from typing import Any

MAX_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, 2 for the code


def enable() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another ASGI server
        return
    if getattr(WebSocketProtocol, "_closes_with_reason", False):
        return
    original = WebSocketProtocol.handle_reply

    def handle_reply(self: Any, message: dict[str, Any]) -> Any:
        if message.get("type") == "websocket.close" and self.state == self.STATE_OPEN:
            reason = str(message.get("reason") or "").encode()[:MAX_REASON_BYTES]
            self.sendCloseFrame(code=int(message.get("code") or 1000),
                                reasonUtf8=reason.decode(errors="ignore").encode() or None)
            return None
        return original(self, message)

    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol._closes_with_reason = True
