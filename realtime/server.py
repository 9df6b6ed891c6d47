"""daphne with a graceful shutdown: what ``manage.py serve`` runs.

daphne's own SIGTERM handling stops its reactor at once: requests in flight are
cut and WebSockets drop without a close frame, so clients cannot tell a deploy
from a crash. This runner handles SIGTERM (and SIGINT) itself:

1. it stops listening, so new connections are refused and the balancer sends
   them to another worker; ``/readyz`` answers 503 from here on;
2. it closes every GraphQL WebSocket with 1001 "going away": clients reconnect,
   through the balancer to another worker, and resume from their last cursor;
3. it waits for the HTTP requests in flight to finish (at most ``drain_timeout``
   seconds), then stops; daphne cancels whatever is left.

A second signal stops at once.
"""

from __future__ import annotations

# daphne.server installs Twisted's asyncio reactor: it must come before anything
# that imports twisted.internet.reactor.
import daphne.server  # isort: skip

import asyncio
import contextlib
import logging
import signal
from typing import Any

from daphne.endpoints import build_endpoint_description_strings
from twisted.internet import defer, reactor

from realtime import health
from realtime.consumer import close_all
from realtime.protocol import Close

logger = logging.getLogger("realtime.server")
access_logger = logging.getLogger("realtime.access")
SHUTDOWN_REASON = "Server shutting down"


def access_log(protocol: str, action: str, details: dict[str, Any]) -> None:
    """daphne's action logger, as log records (JSON with LOG_FORMAT=json)."""
    if protocol == "http" and action == "complete":
        access_logger.info("%s %s %s", details["method"], details["path"], details["status"],
                           extra={"method": details["method"], "path": details["path"],
                                  "status": details["status"], "client": details["client"],
                                  "duration_ms": round(details["time_taken"] * 1000, 2)})
    elif protocol == "websocket" and action in ("connected", "disconnected", "rejected"):
        access_logger.info("websocket %s %s", action, details["path"],
                           extra={"websocket": action, "path": details["path"],
                                  "client": details["client"]})


class GracefulServer(daphne.server.Server):
    def __init__(self, application: Any, endpoints: list[str], drain_timeout: float = 30.0,
                 **options: Any) -> None:
        super().__init__(application, endpoints, signal_handlers=False,
                         action_logger=access_log, **options)
        self.drain_timeout = drain_timeout
        self.ports: list[Any] = []
        self.stopping = False

    def run(self) -> None:
        reactor.callWhenRunning(self._install_signal_handlers)
        super().run()

    def listen_success(self, port: Any) -> None:
        self.ports.append(port)
        super().listen_success(port)

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_event_loop()  # the reactor's loop, set by Server.run
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.shutdown, sig.name)

    def shutdown(self, why: str) -> None:
        if self.stopping:
            logger.warning("%s again: stopping now", why)
            self.stop()
            return
        self.stopping = True
        asyncio.get_event_loop().create_task(self._drain(why))

    async def _drain(self, why: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_timeout
        health.draining = True
        for port in self.ports:
            # Accept what the kernel already queued: closing the listening socket
            # would reset those connections, and the balancer does not retry a
            # POST it has sent.
            with contextlib.suppress(Exception):
                port.doRead()
        await asyncio.gather(*(defer.maybeDeferred(port.stopListening).asFuture(loop)
                               for port in self.ports))
        sockets = await close_all(Close.GOING_AWAY, SHUTDOWN_REASON)
        requests = self._in_flight()
        logger.info("%s: stopped listening, closed %d WebSockets with 1001, "
                    "waiting for %d connections", why, sockets, len(requests),
                    extra={"sockets_closed": sockets, "in_flight": len(requests)})
        while self._in_flight() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        left = self._in_flight()
        if left:
            logger.warning("drain timeout: %d connections cut", len(left))
        logger.info("stopped")
        self.stop()

    def _in_flight(self) -> list[Any]:
        """HTTP requests not yet answered, and sockets whose close handshake is not
        over (daphne marks both ``disconnected`` when they end)."""
        return [protocol for protocol, details in self.connections.items()
                if "disconnected" not in details]


def serve(application: Any, host: str, port: int, drain_timeout: float = 30.0,
          proxy_headers: bool = False) -> None:
    """Run until SIGTERM or SIGINT, then drain (see the module docstring)."""
    GracefulServer(
        application,
        build_endpoint_description_strings(host=host, port=port),
        drain_timeout=drain_timeout,
        # Behind the balancer: the client's address comes from X-Forwarded-For.
        proxy_forwarded_address_header="X-Forwarded-For" if proxy_headers else None,
        proxy_forwarded_port_header="X-Forwarded-Port" if proxy_headers else None,
        proxy_forwarded_proto_header="X-Forwarded-Proto" if proxy_headers else None,
    ).run()
