"""(i) One sequential keep-alive client from Node: Q1 2,000 times, one call at a time.

What a TypeScript back end calling ``User.objects.get({id})`` in a loop feels: every
call's latency, not throughput. Contenders: ours with a cache hit on the event loop
(``RESULT_CACHE = "stream"``), ours as configured by default (``"exact"``: a version
check per hit; not in ``--quick``), ours without the cache, the bare ASGI floor under daphne (our Q1
bytes) and PostGraphile 5 (uncached: a database round trip per call). And the pitch's own
test: ``User.objects.get({pk: 1})`` through ts_client (``bench/node/ts_client_get.mjs``,
the built client over Node's fetch) against ours with the cache hit on the loop.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import orjson

from bench.lib import procs
from bench.lib.stats import median, ratio
from bench.queries import OURS, POSTGRAPHILE
from bench.scenarios import Context, Skip, target

TITLE = "(i) sequential keep-alive client (Node)"
NODE = procs.NODE_DIR / "node_modules" / ".bin" / "node"
TS_CLIENT = procs.NODE_DIR.parent.parent / "ts_client" / "dist" / "src" / "index.js"
TS_GET = "ts_client User.objects.get, stream"


def _client(server: procs.Server, body_file: Path, calls: int, path: str) -> dict[str, Any]:
    out = subprocess.run([str(NODE), str(procs.NODE_DIR / "sequential.mjs"), server.url(path),
                          str(body_file), str(calls)], capture_output=True, text=True,
                         timeout=600)
    server.check_alive()
    if out.returncode != 0:
        raise RuntimeError(f"sequential client against {server.name}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _ts_client_get(server: procs.Server, calls: int) -> dict[str, Any]:
    out = subprocess.run([str(NODE), str(procs.NODE_DIR / "ts_client_get.mjs"),
                          server.url("/graphql"), "1", str(calls)],
                         capture_output=True, text=True, timeout=600)
    server.check_alive()
    if out.returncode != 0:
        raise RuntimeError(f"ts_client against {server.name}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run(ctx: Context) -> dict[str, Any]:
    if not NODE.exists():
        raise Skip("bench/node/node_modules is missing (bench/run installs it with npm ci)")
    calls = 300 if ctx.quick else 2000
    folder = Path(tempfile.mkdtemp())
    ours_body, peer_body = folder / "ours.json", folder / "peer.json"
    ours_body.write_bytes(orjson.dumps({"query": OURS["Q1"]}))
    peer_body.write_bytes(orjson.dumps({"query": POSTGRAPHILE["Q1"]}))
    servers: dict[str, tuple[procs.Server, Path, str]] = {}
    raw: dict[str, list[dict[str, Any]]] = {}
    try:
        contenders = [("ours, stream", "bench.settings_stream"), ("ours", "bench.settings"),
                      ("ours, no cache", "bench.settings_nocache")]
        for name, settings in contenders[::2] if ctx.quick else contenders:
            server = procs.daphne("i-" + name.replace(", ", "-").replace(" ", "-"),
                                  "bench.asgi:application", ctx.log_dir, settings=settings,
                                  extra_args=["-v", "0"]).start()
            servers[name] = (server, ours_body, "/graphql")
        for server, _, _ in servers.values():
            server.wait_port()
        status, q1 = procs.http(servers["ours, stream"][0].url("/graphql"),
                                ours_body.read_bytes())
        assert status == 200, q1
        (folder / "bare.json").write_bytes(q1)
        bare = procs.daphne("i-bare-asgi", "bench.bare.asgi_app:application", ctx.log_dir,
                            extra_args=["-v", "0"], BENCH_BARE_BODY=str(folder / "bare.json"))
        servers["bare ASGI"] = (bare.start(), ours_body, "/")
        bare.wait_port()
        if procs.postgraphile_available():
            peer = procs.postgraphile(ctx.log_dir).start()
            peer.wait_port()
            servers["PostGraphile 5"] = (peer, peer_body, "/graphql")
        for round_ in range(ctx.repeats):
            for name, (server, body, path) in servers.items():
                result = _client(server, body, calls, path)
                result["round"] = round_
                raw.setdefault(name, []).append(result)
            if TS_CLIENT.exists():
                result = _ts_client_get(servers["ours, stream"][0], calls)
                result["round"] = round_
                raw.setdefault(TS_GET, []).append(result)
    finally:
        for server, _, _ in servers.values():
            server.stop()
    return summarize(raw)


def summarize(raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def p50(name: str) -> float:
        runs = raw.get(name)
        return median([r["p50_us"] for r in runs]) / 1000 if runs else float("nan")

    rows = [{"contender": name, "p50 ms": p50(name),
             "p90 ms": median([r["p90_us"] for r in runs]) / 1000,
             "p99 ms": median([r["p99_us"] for r in runs]) / 1000,
             "p50 ÷ bare ASGI": ratio(p50(name), p50("bare ASGI"))}
            for name, runs in raw.items()]
    targets = []
    value = ratio(p50("ours, stream"), p50("bare ASGI"))
    targets.append(target("(i) cached Q1 p50 ÷ bare ASGI", value, "≤ 1.2x", value <= 1.2))
    if "PostGraphile 5" in raw:
        for name, goal in (("ours, stream", "cached"), ("ours, no cache", "uncached")):
            value = ratio(p50(name), p50("PostGraphile 5"))
            targets.append(target(f"(i) {goal} Q1 p50 ÷ PostGraphile 5", value,
                                  "< 1.0x" if goal == "cached" else "≤ 1.0x",
                                  value < 1.0 if goal == "cached" else value <= 1.0))
    if TS_GET in raw:
        value = p50(TS_GET)
        targets.append(target("(i) ts_client User.objects.get({pk}) p50 (ms)", value, "< 1 ms",
                              value < 1.0))
    return {"samples": raw, "rows": rows, "targets": targets}
