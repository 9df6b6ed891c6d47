"""(h) Q2 at 16 connections while a writer saves random articles at 10, 50, 200/s.

The result cache's real test: a separate Django process (bench.lib.writer, ``save``
mode: realtime captures every write) sets the title of a random article at a steady
rate while wrk sends Q2. Q2 shows 20 of 5,000 articles, so most writes cannot change
its answer; per-event invalidation (api_graphql.footprint) keeps it. Contenders:
ours (``RESULT_CACHE = "stream"``: hits on the event loop), ours as configured by
default (``"exact"``: a version check per request; not in ``--quick``) and
PostGraphile 5. Hit rates come
from the server's /metrics; the writer reports how long its saves took.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import time
import urllib.request
from typing import Any

import orjson

from bench.lib import procs
from bench.lib.http_load import Request, run_wrk, wrk_available
from bench.lib.stats import median, ratio
from bench.queries import OURS, POSTGRAPHILE
from bench.scenarios import Context, Skip, target

TITLE = "(h) Q2 under writes"
RATES = (10, 50, 200)


def _cache_counts(server: procs.Server) -> dict[str, int]:
    with urllib.request.urlopen(server.url("/metrics"), timeout=10) as response:
        text = response.read().decode()
    return {m[0]: int(float(m[1])) for m in
            re.findall(r'^graphql_result_cache_total\{outcome="(\w+)"\} (\S+)', text, re.M)}


def _article_pks(server: procs.Server) -> list[int]:
    query = "{ article_list(limit: 1000, ordering: [{id: DESC}]) { id } }"
    status, body = procs.http(server.url("/graphql"), orjson.dumps({"query": query}))
    assert status == 200, body
    return sorted(int(row["id"]) for row in json.loads(body)["data"]["article_list"])


def _writer(pks: list[int], rate: int, seconds: float) -> subprocess.Popen[str]:
    argv = [procs.python(), "-m", "bench.lib.writer", "--mode", "save",
            "--pks", ",".join(map(str, pks)), "--events", str(int(rate * seconds)),
            "--rate", str(rate)]
    return subprocess.Popen(argv, env=procs.bench_env(), cwd=procs.REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run(ctx: Context) -> dict[str, Any]:
    if not wrk_available():
        raise Skip("wrk is not installed (bench/run installs it with apt-get as root)")
    duration = 2.0 if ctx.quick else 8.0
    rates = (50,) if ctx.quick else RATES
    servers: dict[str, procs.Server] = {}
    requests = {"ours, stream": Request("/graphql", orjson.dumps({"query": OURS["Q2"]})),
                "ours": Request("/graphql", orjson.dumps({"query": OURS["Q2"]}))}
    raw: dict[str, list[dict[str, Any]]] = {}
    try:
        contenders = [("ours, stream", "bench.settings_stream"), ("ours", "bench.settings")]
        for name, settings in contenders[:1] if ctx.quick else contenders:
            servers[name] = procs.daphne("h-" + name.replace(", ", "-"), "bench.asgi:application",
                                         ctx.log_dir, settings=settings,
                                         extra_args=["-v", "0"]).start()
        if procs.postgraphile_available():
            servers["PostGraphile 5"] = procs.postgraphile(ctx.log_dir).start()
            requests["PostGraphile 5"] = Request(
                "/graphql", orjson.dumps({"query": POSTGRAPHILE["Q2"]}))
        for server in servers.values():
            server.wait_port()
        # Written rows: random articles, the newest (those Q2 shows) included; the writer
        # warms up on the row after the last one it writes.
        pks = _article_pks(servers["ours, stream"])
        written = random.Random(16).sample(pks[:-1], min(400, len(pks) - 1))
        for name, server in servers.items():
            run_wrk(server, requests[name], 16, 1.0)
        for round_ in range(ctx.repeats):
            for rate in rates:
                for name, server in servers.items():
                    before = _cache_counts(server) if name != "PostGraphile 5" else {}
                    writer = _writer(written, rate, duration + 3.0)
                    time.sleep(2.0)  # its Django start-up and warm-up, then steady writes
                    result = run_wrk(server, requests[name], 16, duration)
                    out, err = writer.communicate(timeout=120)
                    if writer.returncode != 0:
                        raise RuntimeError(f"writer failed: {err[-2000:]}")
                    result["writer"] = json.loads(out.strip().splitlines()[-1])
                    if before:
                        after = _cache_counts(server)
                        hits = after.get("hit", 0) - before.get("hit", 0)
                        misses = after.get("miss", 0) - before.get("miss", 0)
                        result["hit_rate"] = hits / (hits + misses) if hits + misses else 0.0
                        result["revalidated"] = (after.get("revalidated", 0)
                                                 - before.get("revalidated", 0))
                    result.update({"round": round_, "rate": rate, "contender": name})
                    raw.setdefault(f"{name}|{rate}", []).append(result)
    finally:
        for server in servers.values():
            server.stop()
    return summarize(rates, raw)


def summarize(rates: tuple[int, ...], raw: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def med(key: str, pick: Any) -> float:
        runs = raw.get(key) or []
        values = [pick(r) for r in runs if pick(r) is not None]
        return median(values) if values else float("nan")

    rows, targets = [], []
    for rate in rates:
        peer = med(f"PostGraphile 5|{rate}", lambda r: r["rps"])
        for name in ("ours, stream", "ours", "PostGraphile 5"):
            key = f"{name}|{rate}"
            if key not in raw:
                continue
            rows.append({
                "writes/s": rate, "contender": name,
                "req/s": med(key, lambda r: r["rps"]),
                "p50 ms": med(key, lambda r: r["p50_us"]) / 1000,
                "p99 ms": med(key, lambda r: r["p99_us"]) / 1000,
                "server CPU ms/req": med(key, lambda r: r["server_cpu_ms_per_req"]),
                "cache hits": med(key, lambda r: r.get("hit_rate")),
                "writer save p50 ms": med(key, lambda r: r["writer"]["send_p50_ms"]),
                "errors": sum(r["errors"] for r in raw[key]),
                "÷ PostGraphile (req/s)": ratio(med(key, lambda r: r["rps"]), peer),
            })
        ours = med(f"ours, stream|{rate}", lambda r: r["rps"])
        if f"PostGraphile 5|{rate}" in raw:
            value = ratio(ours, peer)
            targets.append(target(f"(h) Q2 @16 under {rate} writes/s: ours ÷ PostGraphile 5",
                                  value, "≥ 1.5x", value >= 1.5))
        if rate == 50:
            hits = med(f"ours, stream|{rate}", lambda r: r.get("hit_rate"))
            targets.append(target("(h) cache hits at 50 writes/s", hits, "≥ 95 %",
                                  hits >= 0.95))
    return {"samples": raw, "rows": rows, "targets": targets}
