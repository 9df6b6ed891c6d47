"""(a) In-process execution: ours vs hand-written strawberry-django vs direct ORM.

No sockets, no server: the cost of answering Q1, Q2 and Q3 inside one Python
process, on the same PostgreSQL connection.

* ours: ``Executor.execute`` (cached parse/validate, then the reader), with a new
  request context per call, as the HTTP view does; once as configured (the result
  cache answers repeats of the same query on unchanged data) and once with the
  result cache off ("ours, no cache": the cost of a miss, i.e. of any query after
  a write);
* hand-written: ``schema.execute_sync`` of the strawberry-django schema with the
  optimizer (and, for information, with strawberry's parser/validation caches);
* direct ORM: the plain view's ``q*_data`` functions (values(), no GraphQL).

Each contender is timed call by call (perf_counter_ns), in ``repeats`` rounds
that interleave the contenders, after a warm-up; the figure is the median of the
round medians. GraphQL overhead = ours - direct ORM.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from bench.lib.stats import median, ratio, spread, summarize
from bench.scenarios import Context, target, verdict

TITLE = "(a) In-process execution"
CALLS = {"Q1": 300, "Q2": 150, "Q3": 15}


def run(ctx: Context) -> dict[str, Any]:
    scale = 0.2 if ctx.quick else 1.0
    result = ctx.child("bench.scenarios.a_inprocess", "--repeats", str(ctx.repeats),
                       "--scale", str(scale))
    rows, targets = [], []
    us = result["median_us"]
    for q in ("Q1", "Q2", "Q3"):
        m = us[q]
        rows.append({
            "query": q,
            "ours µs": m["ours"], "ours, no cache µs": m["ours_nocache"],
            "hand-written µs": m["hand"],
            "hand + caches µs": m["hand_cached"], "direct ORM µs": m["orm"],
            "ours speed-up vs hand": ratio(m["hand"], m["ours"]),
            "no cache: speed-up vs hand": ratio(m["hand"], m["ours_nocache"]),
            "overhead over ORM µs": m["ours"] - m["orm"],
            "no cache: overhead µs": m["ours_nocache"] - m["orm"],
            "ours spread µs": result["spread_us"][q]["ours"],
        })
    q2 = us["Q2"]
    overhead_ms = (q2["ours"] - q2["orm"]) / 1000
    miss_ms = (q2["ours_nocache"] - q2["orm"]) / 1000
    targets.append(target("(a) Q2 GraphQL overhead over direct ORM (ms)", overhead_ms,
                          "≤ 0.3 ms", overhead_ms <= 0.3,
                          f"no result cache: {miss_ms:.2f} ms, {verdict(miss_ms <= 0.3)}"))
    for q, goal in (("Q1", 3.0), ("Q2", 3.0), ("Q3", 1.5)):
        speed = ratio(us[q]["hand"], us[q]["ours"])
        miss = ratio(us[q]["hand"], us[q]["ours_nocache"])
        targets.append(target(f"(a) {q} ours vs hand-written (x faster)", speed,
                              f"≥ {goal}x", speed >= goal,
                              f"no result cache: {miss:.2f}x, {verdict(miss >= goal)}"))
    return {"samples": result, "rows": rows, "targets": targets,
            "same_data": result["same_data"]}


# -- child process -----------------------------------------------------------------
def contenders() -> tuple[dict[str, dict[str, Callable[[], Any]]], dict[str, Any]]:
    """The calls to time per query, and per contender the API_GRAPHQL settings it
    runs under (None: unchanged)."""
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser

    from api_graphql.context import RequestContext
    from api_graphql.execution import executor_for
    from api_graphql.schema import get_schema
    from bench.handwritten.schema import schema, schema_with_caches
    from bench.plain.views import q1_data, q2_data, q3_data
    from bench.queries import HANDWRITTEN, OURS

    built = get_schema()
    executor = executor_for(built)
    anonymous = AnonymousUser()

    def ours(q: str) -> Callable[[], Any]:
        text = OURS[q]
        return lambda: executor.execute(RequestContext(built, anonymous, None, "http"), text)

    def hand(q: str, s: Any = schema) -> Callable[[], Any]:
        text = HANDWRITTEN[q]

        def call() -> Any:
            outcome = s.execute_sync(text)
            if outcome.errors:
                raise RuntimeError(outcome.errors)
            return {"data": outcome.data}
        return call

    orm = {"Q1": q1_data, "Q2": q2_data, "Q3": q3_data}
    from django.conf import settings

    nocache = {**settings.API_GRAPHQL, "RESULT_CACHE": False}
    table = {q: {"ours": ours(q), "ours_nocache": ours(q), "hand": hand(q),
                 "hand_cached": hand(q, schema_with_caches), "orm": orm[q]}
             for q in ("Q1", "Q2", "Q3")}
    return table, {"ours_nocache": nocache}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    from django.test.utils import override_settings

    from bench.compare import same

    table, api_settings = contenders()
    active: list[override_settings] = []

    def configure(name: str) -> None:
        # override_settings sends setting_changed, which api_graphql listens to, so
        # the result cache is switched for the calls that follow (outside the timing).
        while active:
            active.pop().disable()
        if name in api_settings:
            override = override_settings(API_GRAPHQL=api_settings[name])
            override.enable()
            active.append(override)

    same_data = {}
    for q, funcs in table.items():
        reference = funcs["orm"]()
        same_data[q] = {}
        for name, f in funcs.items():
            configure(name)
            same_data[q][name] = same(f(), reference)
            for _ in range(5):  # warm-up: caches, connection, first-query costs
                f()
    samples: dict[str, dict[str, list[list[int]]]] = {
        q: {name: [] for name in funcs} for q, funcs in table.items()}
    for round_ in range(args.repeats):
        for q, funcs in table.items():
            names = list(funcs)
            names = names[round_ % len(names):] + names[:round_ % len(names)]
            calls = max(3, int(CALLS[q] * args.scale))
            for name in names:
                f = funcs[name]
                configure(name)
                times = []
                for _ in range(calls):
                    start = time.perf_counter_ns()
                    f()
                    times.append(time.perf_counter_ns() - start)
                samples[q][name].append(times)
    median_us = {q: {name: median([median(r) for r in runs]) / 1000
                     for name, runs in by.items()} for q, by in samples.items()}
    spread_us = {q: {name: [x / 1000 for x in spread([median(r) for r in runs])]
                     for name, runs in by.items()} for q, by in samples.items()}
    summary = {q: {name: summarize([t / 1000 for r in runs for t in r])
                   for name, runs in by.items()} for q, by in samples.items()}
    print(json.dumps({"median_us": median_us, "spread_us": spread_us, "summary_us": summary,
                      "same_data": same_data, "samples_ns": samples}))


if __name__ == "__main__":
    main()
