"""What we change in daphne's WebSocket protocol (and HTTP requests), and why.

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

HTTP requests: Twisted parses the Content-Type of every POST with the standard
library's email package, so as to fill ``request.args`` with a form's fields, which
daphne never reads (it hands the raw body to the application, which parses forms
itself): 18 % of the CPU of a cache hit answered on the event loop (py-spy, Q1 under
wrk). Daphne's requests are made with Twisted's ``parsePOSTFormSubmission=False``.

Other ASGI servers are left alone.

This reaches into private state of daphne, autobahn and Twisted, so pyproject.toml
bounds them to the releases it was tested with (:data:`TESTED`), and :func:`enable`
first checks that what it relies on is there: if anything is missing, or a release
is outside those bounds, daphne's stock path serves instead, with one warning.
"""

from __future__ import annotations

import inspect
import logging
import struct
from collections.abc import Callable
from functools import partial
from importlib import metadata
from typing import Any

logger = logging.getLogger(__name__)
#: Distribution -> (lowest tested release, first release not tested); keep equal to
#: the bounds in pyproject.toml.
TESTED = {"daphne": ((4, 2), (4, 3)), "autobahn": ((26, 11), (27,)),
          "twisted": ((26, 10), (27,))}
_enabled = False

MAX_REASON_BYTES = 123  # a close frame's payload is at most 125 bytes, 2 for the code
TEXT_FIN = 0x81  # FIN bit and opcode 1 (text)


def frame_header(length: int) -> bytes:
    """The header of an unmasked, final text frame carrying ``length`` bytes."""
    if length < 126:
        return bytes((TEXT_FIN, length))
    if length < 1 << 16:
        return struct.pack("!BBH", TEXT_FIN, 126, length)
    return struct.pack("!BBQ", TEXT_FIN, 127, length)


def _release(distribution: str) -> tuple[int, ...]:
    parts = []
    for part in metadata.version(distribution).split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def unsupported() -> list[str]:
    """What this module relies on that the installed daphne, autobahn or Twisted lack."""
    from autobahn.websocket.protocol import WebSocketProtocol as Autobahn
    from daphne import http_protocol
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import abstract, tcp
    from twisted.web.http import Request

    problems = []
    for distribution, (lowest, beyond) in TESTED.items():
        try:
            release = _release(distribution)
        except metadata.PackageNotFoundError:
            problems.append(f"{distribution} (not installed as a distribution)")
            continue
        if not lowest <= release < beyond:
            problems.append(f"{distribution} {'.'.join(map(str, release))} (tested: "
                            f"{'.'.join(map(str, lowest))} to below "
                            f"{'.'.join(map(str, beyond))})")
    options = set(Autobahn.CONFIG_ATTRS_COMMON) | set(Autobahn.CONFIG_ATTRS_SERVER)
    connection_made = inspect.getsource(Autobahn._connectionMade)
    descriptor_init = inspect.getsource(abstract.FileDescriptor.__init__)
    required = [
        ("daphne WebSocketProtocol.handle_reply", hasattr(WebSocketProtocol, "handle_reply")),
        ("daphne Server.handle_reply", hasattr(Server, "handle_reply")),
        ("autobahn sendCloseFrame", hasattr(Autobahn, "sendCloseFrame")),
        ("autobahn STATE_OPEN", hasattr(Autobahn, "STATE_OPEN")),
        *((f"autobahn option {name}", name in options) for name in
          ("maskServerFrames", "autoFragmentSize", "logFrames", "maxMessagePayloadSize")),
        *((f"autobahn {name}", name in connection_made) for name in
          ("_perMessageCompress", "send_queue", "trackedTimings")),
        *((f"Twisted FileDescriptor.{name}", hasattr(abstract.FileDescriptor, name)) for name in
          ("dataBuffer", "offset", "_writeDisconnected", "disconnecting", "connected")),
        ("Twisted FileDescriptor._tempDataBuffer", "_tempDataBuffer" in descriptor_init),
        ("Twisted tcp.Connection.writeSomeData", hasattr(tcp.Connection, "writeSomeData")),
        ("Twisted Request(parsePOSTFormSubmission=)",
         "parsePOSTFormSubmission" in inspect.signature(Request.__init__).parameters),
        ("daphne's WebRequest not reading request.args",
         ".args" not in inspect.getsource(http_protocol.WebRequest)),
    ]
    problems += [name for name, present in required if not present]
    return problems


def enable() -> bool:
    """Patch daphne's WebSocket path and HTTP requests; False (daphne's stock path)
    when it cannot."""
    global _enabled
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # another ASGI server
        return False
    if getattr(WebSocketProtocol, "_realtime_wire", False):
        return True
    problems = unsupported()
    if problems:
        logger.warning("realtime.daphne_wire: daphne's stock WebSocket path serves (no fast "
                       "frames, closes without reasons): untested or missing: %s",
                       "; ".join(problems))
        return False
    original = WebSocketProtocol.handle_reply
    _no_form_parsing()

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
    _enabled = True
    return True


def _no_form_parsing() -> None:
    from daphne.http_protocol import WebRequest

    made = WebRequest.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        made(self, *args, **kwargs)

    WebRequest.__init__ = __init__


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
    doing what it does for WebSocket messages; None for any other server's, or when
    daphne's path is not patched."""
    if not _enabled:
        return None
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
