"""(f) Cold start: from exec of the server to its first GraphQL answer.

A poller connects every 5 ms and sends Q1 (GET) until the answer is a 200 with
data; the time is counted from just before the server process is spawned.

* ours: ``daphne myproject.asgi`` with the demo project's own settings (so no
  benchmark-only app is imported);
* baseline: a ``startproject``-style Django project with one JSON view doing
  one SQL query (``bench.bare.django_project``), same server, same database;
* floors: ``python -c pass`` and ``import django; django.setup()``.

In a fresh process it also reads ``BuiltSchema.build_seconds``: the time our
schema takes to derive the demo models (built on the first request).
"""

from __future__ import annotations

import subprocess
import time
import urllib.parse
from typing import Any

from bench.lib import procs
from bench.lib.stats import median, ratio, spread
from bench.queries import OURS
from bench.scenarios import Context, target

TITLE = "(f) Cold start to the first answer"


def first_answer(server: procs.Server, path: str, needle: bytes, timeout: float = 60) -> float:
    started = server.started_at
    server.start()
    started = server.started_at
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            status, body = procs.http(server.url(path), timeout=5)
            if status == 200 and needle in body:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.005)
    raise TimeoutError(f"{server.name}: no answer in {timeout}s; see {server.log_path}")


def timed(argv: list[str], settings: str = "bench.settings") -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=procs.bench_env(settings), cwd=procs.REPO, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def run(ctx: Context) -> dict[str, Any]:
    rounds = 2 if ctx.quick else 5
    ours_path = "/graphql?" + urllib.parse.urlencode({"query": OURS["Q1"]})
    raw: dict[str, list[float]] = {"ours": [], "bare Django": [], "python -c pass": [],
                                   "django.setup()": []}
    py = procs.python()
    for _ in range(rounds):
        with procs.daphne("coldstart-ours", "bench.asgi:application", ctx.log_dir,
                          settings="myproject.settings", extra_args=["-v", "0"]) as ours:
            raw["ours"].append(first_answer(ours, ours_path, b'"article"'))
        with procs.daphne("coldstart-bare", "bench.bare.django_project.asgi:application",
                          ctx.log_dir, settings="bench.bare.django_project.settings",
                          extra_args=["-v", "0"]) as bare:
            raw["bare Django"].append(first_answer(bare, "/q1", b'"article"'))
        raw["python -c pass"].append(timed([py, "-c", "pass"]))
        raw["django.setup()"].append(timed([py, "-c", "import django; django.setup()"],
                                           settings="myproject.settings"))
    build = ctx.child("bench.scenarios.f_coldstart_schema", settings="myproject.settings")
    ours, bare = median(raw["ours"]), median(raw["bare Django"])
    rows = [{"what": name, "seconds": median(values), "spread": spread(values),
             "÷ bare Django": ratio(median(values), bare)} for name, values in raw.items()]
    rows.append({"what": "schema build (in first request)", "seconds": build["build_seconds"],
                 "spread": (build["build_seconds"], build["build_seconds"]),
                 "÷ bare Django": float("nan")})
    targets = [
        target("(f) cold start ours ÷ bare Django", ratio(ours, bare), "≤ 1.2x",
               ratio(ours, bare) <= 1.2),
        target("(f) schema build for the demo (ms)", 1000 * build["build_seconds"], "≤ 200 ms",
               build["build_seconds"] <= 0.2),
    ]
    return {"samples": {"seconds": raw, "schema": build}, "rows": rows, "targets": targets}
