"""(g) SQL queries per nested query: does the count grow with the rows?

Q2 (articles with author, tags and comment count) at 10 and 100 rows, counted
with Django's ``CaptureQueriesContext``, for ours with the result cache off (how
the query itself runs; a cache hit is counted apart), the hand-written
strawberry-django schema (optimizer on) and the plain view (select_related-style
join + one query for the tags: what a careful developer writes by hand).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench.scenarios import Context, target

TITLE = "(g) SQL queries per nested query"
SIZES = (10, 100)


def run(ctx: Context) -> dict[str, Any]:
    result = ctx.child("bench.scenarios.g_sql_queries")
    counts = result["counts"]
    rows = [{"contender": name, **{f"queries @ {n} rows": counts[name][str(n)] for n in SIZES}}
            for name in counts]
    rows.append({"contender": "ours, result cache hit",
                 **{f"queries @ {n} rows": result["cache_hit"][str(n)] for n in SIZES}})
    ours = counts["ours"]
    constant = ours["10"] == ours["100"]
    targets = [
        target("(g) ours: query count constant in rows", ours["100"],
               f"= {ours['10']} (at 10 rows)", constant),
        target("(g) ours vs hand-written prefetch (plain view)", ours["100"],
               f"≤ {counts['plain']['100']} (equal or fewer)",
               ours["100"] <= counts["plain"]["100"],
               f"strawberry-django optimizer: {counts['hand']['100']}"),
    ]
    return {"samples": result, "rows": rows, "targets": targets}


def main() -> None:
    argparse.ArgumentParser().parse_args()
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api_graphql.context import RequestContext
    from api_graphql.execution import executor_for
    from api_graphql.schema import get_schema
    from bench.handwritten.schema import schema
    from bench.plain.views import q2_data
    from bench.queries import HANDWRITTEN, OURS

    built = get_schema()
    executor = executor_for(built)

    def ours(n: int) -> Any:
        text = OURS["Q2"].replace("limit: 20", f"limit: {n}")
        return executor.execute(RequestContext(built, AnonymousUser(), None, "http"), text)

    def hand(n: int) -> Any:
        outcome = schema.execute_sync(HANDWRITTEN["Q2"].replace("limit: 20", f"limit: {n}"))
        assert not outcome.errors, outcome.errors
        return outcome.data

    from django.conf import settings
    from django.test.utils import override_settings

    cache_hit: dict[str, int] = {}
    for n in SIZES:  # with the result cache as configured: a repeat is a hit
        ours(n)
        with CaptureQueriesContext(connection) as captured:
            ours(n)
        cache_hit[str(n)] = len(captured.captured_queries)
    # The real query path: override_settings tells api_graphql (setting_changed).
    override_settings(API_GRAPHQL={**settings.API_GRAPHQL, "RESULT_CACHE": False}).enable()

    counts: dict[str, dict[str, int]] = {}
    sql: dict[str, dict[str, list[str]]] = {}
    for name, func in (("ours", ours), ("hand", hand), ("plain", q2_data)):
        func(10)  # warm: the first call may load content types, build caches
        counts[name], sql[name] = {}, {}
        for n in SIZES:
            with CaptureQueriesContext(connection) as captured:
                func(n)
            counts[name][str(n)] = len(captured.captured_queries)
            sql[name][str(n)] = [q["sql"] for q in captured.captured_queries]
    print(json.dumps({"counts": counts, "sql": sql, "cache_hit": cache_hit}))


if __name__ == "__main__":
    main()
