"""What we change in daphne's WebSocket protocol, and why.

Closes: daphne hands ``websocket.close`` to autobahn's ``sendClose``, which drops
the reason (django/daphne#374) and refuses the registered codes a server needs:
1001 (going away, on shutdown), 1009 (message too big) and 1013 (try again later,
a slow consumer). RFC 6455 lets a server send all of them; autobahn's own
``sendCloseFrame`` does, so closes go through it.

Text frames: autobahn spends more time per frame on bookkeeping than on framing
(assertions, traffic counters, and debug log arguments it formats before the
logger discards them: 40 % of a fan-out's CPU in py-spy). A server frame is a
two-to-ten-byte header and the payload, unmasked (RFC 6455 section 5.2), so on
an open socket with nothing queued, no compression and no fragmentation that is
what gets written. Anything else takes autobahn's path.

Writes: Twisted buffers every write and asks the reactor to watch the socket
(an epoll_ctl on, another off) and sends on the next turn of the loop, so a burst
to 1,000 sockets leaves only once all of it is queued. With nothing queued on a
plain TCP socket the frame is sent at once, as asyncio's transports do; what the
kernel does not take is queued behind it the usual way.

Sends: daphne's ASGI ``send`` never waits (it hands the message to Twisted), yet
being a coroutine it costs a task per socket to call from plain code. For a fan-out
to 1,000 sockets, :func:`immediate_send` gives the same delivery as a function, so
the frames go out in one pass, as a websockets ``broadcast()`` does.

Other ASGI servers are left alone.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial
from typing import Any

MAX_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, 2 for the code
TEXT_FIN = 0x81  # FIN bit and opcode 1 (text)


def frame_header(length: int) -> bytes:
    """The header of an unmasked, final text frame carrying ``length`` bytes."""
    if length < 126:
        return bytes((TEXT_FIN, length))
    if length < 1 << 16:
        return struct.pack("!BBH", TEXT_FIN, 126, length)
    return struct.pack("!BBQ", TEXT_FIN, 127, length)


def enable() -> None:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another ASGI server
        return
    if getattr(WebSocketProtocol, "_realtime_wire", False):
        return
    original = WebSocketProtocol.handle_reply

    def handle_reply(self: Any, message: dict[str, Any]) -> Any:
        kind = message.get("type")
        if kind == "websocket.send" and self.state == self.STATE_OPEN:
            text = message.get("text")
            if isinstance(text, str) and text and not message.get("bytes") and plain(self):
                payload = text.encode()
                if not 0 < self.maxMessagePayloadSize < len(payload):
                    write_now(self.transport, frame_header(len(payload)) + payload)
                    return None
        elif kind == "websocket.close" and self.state == self.STATE_OPEN:
            reason = str(message.get("reason") or "").encode()[:MAX_REASON_BYTES]
            self.sendCloseFrame(code=int(message.get("code") or 1000),
                                reasonUtf8=reason.decode(errors="ignore").encode() or None)
            return None
        return original(self, message)

    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol._realtime_wire = True


def plain(protocol: Any) -> bool:
    """No state of autobahn's that a frame written directly would bypass."""
    return (protocol._perMessageCompress is None and not protocol.send_queue
            and not protocol.autoFragmentSize and not protocol.maskServerFrames
            and not protocol.trackedTimings and not protocol.logFrames)


def write_now(transport: Any, data: bytes) -> None:
    if (not getattr(transport, "TLS", True) and transport.connected
            and not transport.disconnecting and not transport._writeDisconnected
            and not transport._tempDataBuffer
            and len(transport.dataBuffer) == transport.offset):
        sent = transport.writeSomeData(data)
        if isinstance(sent, int):  # otherwise the connection is lost: write() drops it
            if sent == len(data):
                return
            data = data[sent:]
    transport.write(data)


def immediate_send(send: Any) -> Callable[[dict[str, Any]], None] | None:
    """For daphne's ``send`` (``partial(server.handle_reply, protocol)``), a function
    doing what it does for WebSocket messages; None for any other server's."""
    try:
        from daphne.server import Server
    except ImportError:
        return None
    if not (isinstance(send, partial) and len(send.args) == 1 and not send.keywords
            and getattr(send.func, "__func__", None) is Server.handle_reply):
        return None
    server: Any = send.func
    connections, protocol = server.__self__.connections, send.args[0]

    def deliver(message: dict[str, Any]) -> None:
        state = connections.get(protocol)
        if state is not None and not state.get("disconnected"):
            protocol.handle_reply(message)

    return deliver
