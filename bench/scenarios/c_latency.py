"""(c) Change-to-client latency for 1, 100, 1,000 and 10,000 subscribers over Redis.

N sockets subscribe to ``article_changes`` for the ten bench rows (one daphne
worker, Redis channel layer). A separate writer process saves those rows at a
fixed rate (open loop), stamping ``time.monotonic_ns()`` into the title just
before ``save()``; each socket records the arrival on the same clock. One sample
per (event, subscriber): latency = arrival - stamp, so it includes the commit,
the outbox, Redis, the hub, rendering and the socket write.

Same-run floors: the same fleet on the bare websockets server, and on a bare
ASGI relay under daphne, the writer PUBLISHing the same stamped event straight
to Redis (no database, no GraphQL); see ``bench.lib.realtime``.

The writer's own share is shown beside it: how long its ``save()`` took (the
transaction, the commit and the sequencing after it), and the same UPDATE in a
transaction without realtime at the same rate (``write alone``), since that part
of the latency is the database's and would be paid by any peer.

Events per run shrink as N grows (N x rate stays near a few thousand frames/s),
so every N measures latency, not saturation; (d) measures saturation.
"""

from __future__ import annotations

import time
from typing import Any

from bench.lib import procs, realtime
from bench.lib.stats import median, ratio, summarize
from bench.lib.ws_client import Fleet
from bench.scenarios import Context, Skip, target

TITLE = "(c) Change-to-client latency"
#: subscribers -> (events, events per second)
FULL = {1: (60, 20.0), 100: (40, 10.0), 1000: (20, 4.0), 10000: (8, 1.0)}
QUICK = {1: (20, 20.0), 100: (10, 10.0)}


def measure(server: procs.Server, contender: realtime.Contender, sockets: int, events: int,
            rate: float) -> dict[str, Any]:
    with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), sockets,
               realtime.SUBSCRIPTION) as fleet:
        ready = fleet.wait_ready()
        if ready["ready"] == 0:
            raise RuntimeError(f"no socket got READY: {ready['errors']}")
        time.sleep(0.5)  # let the server settle after the connect storm
        cpu_before = server.cpu_seconds()
        writer = contender.write(events, rate)
        fleet.drain(events * ready["ready"], quiet_s=5.0)
        cpu = server.cpu_seconds() - cpu_before
        report = fleet.report()
        server.check_alive()
    latencies = report.pop("latencies_us")
    lost = realtime.lost_events(report["per_socket"], events, ready["ready"])
    return {"sockets": sockets, "ready": ready, "writer": writer, "report": report,
            "latency_us": summarize(latencies), "lost": lost, "server_cpu_s": cpu,
            "errors": ready["failed"] + len(report["errors"])
            + sum(report["close_codes"].values()),
            "samples_us": latencies}


def run(ctx: Context) -> dict[str, Any]:
    reason = realtime.unavailable()
    if reason:
        raise Skip(reason)
    plan = QUICK if ctx.quick else FULL
    raw: dict[str, list[dict[str, Any]]] = {}
    servers = {c.name: c.make(ctx.log_dir) for c in realtime.CONTENDERS}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_port()
        for sockets, (events, rate) in plan.items():
            repeats = 1 if sockets >= 10000 else ctx.repeats
            for round_ in range(repeats):
                order = list(realtime.CONTENDERS)
                order = order[round_ % len(order):] + order[:round_ % len(order)]
                for contender in order:
                    server = servers[contender.name]
                    result = measure(server, contender, sockets, events, rate)
                    result["rss_kib"] = server.rss_kib()
                    raw.setdefault(f"{contender.name}|{sockets}", []).append(result)
                alone = realtime.write("update", events, rate)
                raw.setdefault(f"alone|{sockets}", []).append(alone)
    finally:
        for server in servers.values():
            server.stop()
    return summarize_runs(plan, raw)


def summarize_runs(plan: dict[int, tuple[int, float]],
                   raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def med(name: str, sockets: int, field: str) -> float:
        return median([r["latency_us"][field] / 1000 for r in raw[f"{name}|{sockets}"]])

    rows, chart = [], []
    for sockets, (events, rate) in plan.items():
        for name in (c.name for c in realtime.CONTENDERS):
            runs = raw[f"{name}|{sockets}"]
            row = {
                "subscribers": sockets, "server": name, "events": events, "rate/s": rate,
                "p50 ms": med(name, sockets, "p50"), "p90 ms": med(name, sockets, "p90"),
                "p99 ms": med(name, sockets, "p99"), "max ms": med(name, sockets, "max"),
                # The writer's own share of p50: save + commit + on-commit work.
                "writer send p50 ms": median([r["writer"]["send_p50_ms"] for r in runs]),
                "write alone p50 ms": (median([r["send_p50_ms"] for r in raw[f"alone|{sockets}"]])
                                       if name == "ours" else None),
                "lost": sum(r["lost"] for r in runs), "errors": sum(r["errors"] for r in runs),
                "p50 ÷ floor": ratio(med(name, sockets, "p50"), med("floor", sockets, "p50")),
            }
            rows.append(row)
            chart.append(row)
    targets = []
    if "ours|1" in raw:
        p50 = med("ours", 1, "p50")
        alone = median([r["send_p50_ms"] for r in raw["alone|1"]])
        targets.append(target("(c) p50 at 1 subscriber (ms)", p50, "≤ 3 ms", p50 <= 3,
                              f"the write alone, without realtime: {alone:.2f} ms"))
    if "ours|1000" in raw:
        p99 = med("ours", 1000, "p99")
        targets.append(target("(c) p99 at 1,000 subscribers (ms)", p99, "≤ 25 ms", p99 <= 25))
    if "ours|10000" in raw:
        runs = raw["ours|10000"]
        bad = sum(r["errors"] + r["lost"] for r in runs)
        ready = min(r["ready"]["ready"] for r in runs)
        targets.append(target("(c) 10,000 subscribers: errors + lost events", bad,
                              "0 (and 10,000 READY)", bad == 0 and ready == 10000,
                              f"{ready} sockets READY"))
    for runs in raw.values():  # keep the JSON small: raw samples of the first round only
        for r in runs[1:]:
            r.pop("samples_us", None)
    return {"samples": raw, "rows": rows, "targets": targets, "chart": chart}
