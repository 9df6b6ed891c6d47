"""(e) Memory per idle subscribed socket, and 10 connect/close cycles.

On a fresh server: RSS with no socket (after one warm-up socket, so lazy imports
and the schema are loaded), then with N idle subscribed sockets; per socket =
(RSS_N - RSS_0) / N, beside the bare websockets server with compression off and a bare ASGI app on
daphne (daphne's own cost per socket).
Then 10 cycles of connect-subscribe-close of 1,000 sockets: the server's RSS
after each cycle; growth = last / first - 1. Also the server CPU used while the
N sockets sit idle for a few seconds (pings, housekeeping) and Redis memory.
"""

from __future__ import annotations

import time
from typing import Any

from bench.lib import procs, realtime
from bench.lib.stats import ratio
from bench.lib.ws_client import Fleet
from bench.scenarios import Context, Skip, target

TITLE = "(e) Memory per idle subscribed socket"


def redis_used_memory() -> int:
    import redis

    client = redis.Redis.from_url(procs.bench_env()["REDIS_URL"])
    return int(client.info("memory")["used_memory"])


def idle_footprint(server: procs.Server, sockets: int, idle_s: float) -> dict[str, Any]:
    with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), 1,
               realtime.SUBSCRIPTION) as warm:
        warm.wait_ready()
    time.sleep(1.0)
    rss0, redis0 = server.rss_kib(), redis_used_memory()
    with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), sockets,
               realtime.SUBSCRIPTION) as fleet:
        ready = fleet.wait_ready()
        time.sleep(2.0)
        cpu0 = server.cpu_seconds()
        time.sleep(idle_s)
        idle_cpu = server.cpu_seconds() - cpu0
        rss1, redis1 = server.rss_kib(), redis_used_memory()
        fleet.close()
    return {"sockets": sockets, "ready": ready, "rss0_kib": rss0, "rss_kib": rss1,
            "kib_per_socket": (rss1 - rss0) / max(1, ready["ready"]),
            "redis_bytes_per_socket": (redis1 - redis0) / max(1, ready["ready"]),
            "idle_cpu_percent": 100 * idle_cpu / idle_s}


def cycles(server: procs.Server, sockets: int, count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), sockets,
                   realtime.SUBSCRIPTION) as fleet:
            ready = fleet.wait_ready()
            closed = fleet.close()
        time.sleep(1.0)  # let the server finish its disconnect handling
        out.append({"cycle": i + 1, "ready": ready["ready"], "closed": closed,
                    "rss_kib": server.rss_kib()})
    return out


def run(ctx: Context) -> dict[str, Any]:
    reason = realtime.unavailable()
    if reason:
        raise Skip(reason)
    sockets = 200 if ctx.quick else 1000
    rounds = 3 if ctx.quick else 10
    idle_s = 2.0 if ctx.quick else 5.0
    raw: dict[str, Any] = {}
    for contender in realtime.CONTENDERS:
        name = contender.name
        with contender.make(ctx.log_dir, name=f"mem-{name.replace(' ', '-')}") as server:
            server.start()
            server.wait_port()
            raw[name] = {"idle": idle_footprint(server, sockets, idle_s),
                         "cycles": cycles(server, sockets, rounds)}
    rows = []
    for name in (c.name for c in realtime.CONTENDERS):
        idle, cyc = raw[name]["idle"], raw[name]["cycles"]
        growth = cyc[-1]["rss_kib"] / cyc[0]["rss_kib"] - 1
        raw[name]["growth"] = growth
        rows.append({
            "server": name, "sockets": sockets,
            "KiB per idle subscribed socket": idle["kib_per_socket"],
            "÷ floor": ratio(idle["kib_per_socket"], raw["floor"]["idle"]["kib_per_socket"]),
            "Redis bytes/socket": idle["redis_bytes_per_socket"],
            "idle CPU %": idle["idle_cpu_percent"],
            f"RSS after cycle 1 / {rounds} (MiB)":
                f"{cyc[0]['rss_kib'] / 1024:.1f} / {cyc[-1]['rss_kib'] / 1024:.1f}",
            "growth %": 100 * growth,
        })
    ours = raw["ours"]
    targets = [
        target("(e) KiB per idle subscribed socket", ours["idle"]["kib_per_socket"], "≤ 20 KiB",
               ours["idle"]["kib_per_socket"] <= 20),
        target(f"(e) RSS growth over {rounds} cycles of {sockets} sockets (%)",
               100 * ours["growth"], "≤ 5 % (no growth)", ours["growth"] <= 0.05),
    ]
    return {"samples": raw, "rows": rows, "targets": targets}
