"""(d) Fan-out: frames per second delivered for an event burst.

N sockets (one group: the same subscription) wait; the writer then changes the
ten bench rows as fast as it can, ten rows per transaction, so the server gets
a burst. Throughput = frames received by all sockets / (last arrival - first
stamp). The floor is the bare websockets server relaying a burst of Redis
PUBLISHes with ``broadcast()``; the daphne floor relays them as a bare ASGI app
on daphne (what the server alone allows). Server CPU per delivered frame from
/proc.
"""

from __future__ import annotations

import time
from typing import Any

from bench.lib import procs, realtime
from bench.lib.stats import median, ratio
from bench.lib.ws_client import Fleet
from bench.scenarios import Context, Skip, target

TITLE = "(d) Fan-out throughput"
#: subscribers -> writer transactions of 10 events (N x events ~ 200k frames in full)
FULL = {100: 200, 1000: 20}
QUICK = {100: 10}
BATCH = 10


def burst(server: procs.Server, contender: realtime.Contender, sockets: int,
          sends: int) -> dict[str, Any]:
    events = sends * BATCH
    with Fleet(procs.python(), procs.bench_env(), realtime.ws_url(server), sockets,
               realtime.SUBSCRIPTION) as fleet:
        ready = fleet.wait_ready()
        if ready["ready"] == 0:
            raise RuntimeError(f"no socket got READY: {ready['errors']}")
        time.sleep(0.5)
        cpu_before = server.cpu_seconds()
        writer = contender.write(sends, 0.0, batch=BATCH)
        fleet.drain(events * ready["ready"], quiet_s=5.0, limit_s=300)
        cpu = server.cpu_seconds() - cpu_before
        report = fleet.report()
        server.check_alive()
    frames = report["frames"]
    seconds = (report["last_ns"] - report["first_stamp_ns"]) / 1e9 if frames else float("nan")
    report.pop("latencies_us")
    return {"sockets": sockets, "events": events, "ready": ready, "writer": writer,
            "frames": frames, "expected": events * ready["ready"], "seconds": seconds,
            "frames_per_s": frames / seconds if frames else 0.0,
            "server_cpu_us_per_frame": 1e6 * cpu / frames if frames else float("nan"),
            "lost": realtime.lost_events(report["per_socket"], events, ready["ready"]),
            "report": report}


def run(ctx: Context) -> dict[str, Any]:
    reason = realtime.unavailable()
    if reason:
        raise Skip(reason)
    plan = QUICK if ctx.quick else FULL
    raw: dict[str, list[dict[str, Any]]] = {}
    servers = {c.name: c.make(ctx.log_dir, name=f"fanout-{c.name.replace(' ', '-')}")
               for c in realtime.CONTENDERS}
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_port()
        for sockets, sends in plan.items():
            for round_ in range(ctx.repeats):
                order = list(realtime.CONTENDERS)
                order = order[round_ % len(order):] + order[:round_ % len(order)]
                for contender in order:
                    raw.setdefault(f"{contender.name}|{sockets}", []).append(
                        burst(servers[contender.name], contender, sockets, sends))
    finally:
        for server in servers.values():
            server.stop()
    rows, targets = [], []
    for sockets in plan:
        floor_fps = median([r["frames_per_s"] for r in raw[f"floor|{sockets}"]])
        for name in (c.name for c in realtime.CONTENDERS):
            runs = raw[f"{name}|{sockets}"]
            fps = median([r["frames_per_s"] for r in runs])
            rows.append({
                "subscribers": sockets, "server": name, "events": runs[0]["events"],
                "frames/s": fps, "÷ floor": ratio(fps, floor_fps),
                # If this is near frames/s ÷ subscribers, the writer, not the server, limited.
                "writer events/s": median([r["writer"]["sent"] / r["writer"]["seconds"]
                                           for r in runs]),
                "server CPU µs/frame": median([r["server_cpu_us_per_frame"] for r in runs]),
                "lost frames": sum(r["lost"] for r in runs),
            })
    top = max(plan)
    fps = median([r["frames_per_s"] for r in raw[f"ours|{top}"]])
    floor_fps = median([r["frames_per_s"] for r in raw[f"floor|{top}"]])
    targets.append(target(f"(d) frames/s by one worker ({top} subscribers)", fps, "≥ 50,000",
                          fps >= 50000))
    daphne_fps = median([r["frames_per_s"] for r in raw[f"daphne floor|{top}"]])
    targets.append(target(f"(d) ours ÷ bare websockets broadcast ({top} subscribers)",
                          ratio(fps, floor_fps), "≥ 0.5x", ratio(fps, floor_fps) >= 0.5,
                          f"bare ASGI on daphne: {ratio(daphne_fps, floor_fps):.2f}x"))
    return {"samples": raw, "rows": rows, "targets": targets}
