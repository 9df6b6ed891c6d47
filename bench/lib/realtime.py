"""What the WebSocket scenarios (c), (d), (e) share: servers, the subscription,
the writer.

Three contenders get the same client fleet and the same stamped events:

* ``ours``: the demo project's ASGI application (WebSocket /graphql, the realtime
  consumer and its per-process hub) on one daphne process, Redis channel layer;
  the writer saves rows in another process;
* ``floor``: the bare websockets broadcast server fed by Redis PUBLISH, the
  fastest Python fan-out we know (what issue 6 compares with);
* ``daphne floor``: the same relay as a bare ASGI app on daphne, so the part of
  the gap that is the server (daphne, Twisted, autobahn) shows apart from ours.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lib import procs

#: Rows the writer changes (not 1..20, which Q1/Q2 read).
PKS = list(range(101, 111))
_IDS = ", ".join(f'"{pk}"' for pk in PKS)
SUBSCRIPTION = (
    f"subscription {{ article_changes(filters: {{id: {{in: [{_IDS}]}}}}) "
    "{ op cursor pk node { id title } changed_fields } }"
)


def unavailable() -> str | None:
    """Why the realtime scenarios cannot run here, or None."""
    if importlib.util.find_spec("realtime") is None or \
            importlib.util.find_spec("realtime.routing") is None:
        return "realtime.routing does not exist yet (no WebSocket endpoint to measure)"
    if not procs.bench_env().get("REDIS_URL"):
        return "REDIS_URL is not set"
    return None


FLOOR_CHANNEL = "bench-floor-ws"
DAPHNE_FLOOR_CHANNEL = "bench-floor-daphne"


def ours(log_dir: Path, name: str = "ours-ws") -> procs.Server:
    return procs.daphne(name, "bench.asgi:application", log_dir, extra_args=["-v", "0"])


def floor(log_dir: Path, name: str = "ws-floor") -> procs.Server:
    port = procs.free_port()
    env = procs.bench_env(BENCH_FLOOR_CHANNEL=FLOOR_CHANNEL)
    argv = [procs.python(), "-m", "bench.bare.ws_broadcast", "--port", str(port),
            "--redis", env["REDIS_URL"]]
    return procs.Server(name, argv, port, env, log_dir)


def daphne_floor(log_dir: Path, name: str = "ws-floor-daphne") -> procs.Server:
    return procs.daphne(name, "bench.bare.asgi_ws_broadcast:application", log_dir,
                        extra_args=["-v", "0"], BENCH_FLOOR_CHANNEL=DAPHNE_FLOOR_CHANNEL)


@dataclass(frozen=True)
class Contender:
    name: str
    make: Callable[..., procs.Server]
    mode: str  # the writer's mode: "save" (a Django write) or "publish" (Redis)
    channel: str = ""

    def write(self, events: int, rate: float, batch: int = 1) -> dict[str, Any]:
        return write(self.mode, events, rate, batch, self.channel)


CONTENDERS = (
    Contender("ours", ours, "save"),
    Contender("floor", floor, "publish", FLOOR_CHANNEL),
    Contender("daphne floor", daphne_floor, "publish", DAPHNE_FLOOR_CHANNEL),
)


def ws_url(server: procs.Server) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql"


def write(mode: str, events: int, rate: float, batch: int = 1,
          channel: str = FLOOR_CHANNEL) -> dict[str, Any]:
    """Run the writer process to completion (mode "save" for ours, "publish" for floors)."""
    argv = [procs.python(), "-m", "bench.lib.writer", "--mode", mode,
            "--pks", ",".join(map(str, PKS)), "--events", str(events), "--rate", str(rate),
            "--batch", str(batch), "--channel", channel]
    out = subprocess.run(argv, env=procs.bench_env(), cwd=procs.REPO, capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"writer failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def lost_events(per_socket: dict[int, int], expected: int, sockets: int) -> int:
    """Events that some socket never got (sockets that got nothing count fully)."""
    seen = sum(per_socket.values())
    lost = sum(max(0, expected - count) * n for count, n in per_socket.items())
    return lost + max(0, sockets - seen) * expected
