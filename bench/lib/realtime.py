"""What the WebSocket scenarios (c), (d), (e) share: servers, the subscription,
the writer.

Ours is the demo project's ASGI application (WebSocket /graphql, the realtime
consumer and its per-process hub) on one daphne process, over the Redis channel
layer. The floor is the bare websockets broadcast server fed by Redis PUBLISH.
Both get the same client fleet and the same stamped events.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
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


def ours(log_dir: Path, name: str = "ours-ws") -> procs.Server:
    return procs.daphne(name, "bench.asgi:application", log_dir, extra_args=["-v", "0"])


def floor(log_dir: Path, name: str = "ws-floor") -> procs.Server:
    port = procs.free_port()
    env = procs.bench_env()
    argv = [procs.python(), "-m", "bench.bare.ws_broadcast", "--port", str(port),
            "--redis", env["REDIS_URL"]]
    return procs.Server(name, argv, port, env, log_dir)


def ws_url(server: procs.Server) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql"


def write(mode: str, events: int, rate: float, batch: int = 1) -> dict[str, Any]:
    """Run the writer process to completion (mode "save" for ours, "publish" for the floor)."""
    argv = [procs.python(), "-m", "bench.lib.writer", "--mode", mode,
            "--pks", ",".join(map(str, PKS)), "--events", str(events), "--rate", str(rate),
            "--batch", str(batch)]
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
