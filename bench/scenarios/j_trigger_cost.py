"""(j) What capture costs a write: the trigger, and a whole ORM save.

One article's title is written in autocommit, alternating between two values so
every write changes the row, on PostgreSQL (the bench database) and on SQLite (a
fresh file, the embedded default). Two pairs, each measured in the same child and
interleaved round by round, so load hits both sides alike:

* ``UPDATE``: the statement alone, through the driver's own cursor (no Django),
  with the table's capture trigger dropped, then installed: what the trigger costs
  the database per row.
* ``save()``: ``article.save(update_fields=["title"])``; without capture is Django
  alone (trigger dropped, realtime's execute wrapper off the connection); with it,
  what a writer pays today: the trigger, then after commit the sequencing pass and
  the publish (over Redis on PostgreSQL, nobody to tell in memory on SQLite).

The trigger is dropped and put back (``realtime.triggers.install``) on databases of
this scenario's own, never the bench database other runs may be reading: PostgreSQL
``<bench database>_capture`` (created and migrated here) and a SQLite file in a
temporary folder; on PostgreSQL its events go to a channel-layer prefix of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lib import procs
from bench.lib.stats import median, ratio, spread
from bench.scenarios import Context

TITLE = "(j) Capture cost per write"
WRITES = ("UPDATE", "save()")


def run(ctx: Context) -> dict[str, Any]:
    writes, rounds = (200, 2) if ctx.quick else (1000, 5)
    samples: dict[str, Any] = {}
    sizes = ("--writes", str(writes), "--rounds", str(rounds))
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as folder:
        for database, url in (("PostgreSQL", _scratch_postgresql()),
                              ("SQLite", f"sqlite:///{Path(folder) / 'capture.sqlite3'}")):
            samples[database] = ctx.child("bench.scenarios.j_trigger_cost", *sizes,
                                          "--database-url", url)
    rows = []
    for database, result in samples.items():
        for write in WRITES:
            without, with_ = result[write]["without"], result[write]["with"]
            rows.append({"database": database, "write": write,
                         "µs without capture": median(without),
                         "µs with capture": median(with_),
                         "spread with": spread(with_),
                         "with ÷ without": ratio(median(with_), median(without))})
    # No issue sets a goal for this cost: it is reported, never judged.
    return {"samples": samples, "rows": rows, "targets": []}


def _scratch_postgresql() -> str:
    """``<bench database>_capture`` on the bench's server, created if missing."""
    import psycopg

    url = urllib.parse.urlparse(procs.bench_env()["DATABASE_URL"])
    name = url.path.lstrip("/") + "_capture"
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    return url._replace(path=f"/{name}").geturl()


# -- the child: one database ----------------------------------------------------------


def _timed(write: Callable[[int], None], writes: int) -> float:
    """Microseconds per write, over ``writes`` writes."""
    started = time.perf_counter()
    for i in range(writes):
        write(i)
    return 1e6 * (time.perf_counter() - started) / writes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True,
                        help="this scenario's own database (postgres:// or sqlite:///)")
    parser.add_argument("--writes", type=int, required=True, help="an even number")
    parser.add_argument("--rounds", type=int, required=True)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url  # the settings read it at setup
    if args.database_url.startswith("sqlite"):
        os.environ["REDIS_URL"] = ""  # the embedded default: the in-memory layer
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    layers = settings.CHANNEL_LAYERS
    if "CONFIG" in layers["default"]:  # events of this database reach no bench server
        override_settings(CHANNEL_LAYERS={"default": {
            **layers["default"], "CONFIG": {**layers["default"]["CONFIG"],
                                            "prefix": "bench-capture"}}}).enable()
    call_command("migrate", verbosity=0)

    from myproject.models import Article, User
    from realtime import capture, triggers
    from realtime.models import ChangeRecord

    author, _ = User.objects.get_or_create(username="bench-trigger-cost")
    article = Article.objects.filter(author=author).first() or Article.objects.create(
        title="a", content="trigger cost", author=author)
    table = Article._meta.db_table
    sql = triggers.dialect(connection)
    assert sql is not None
    q = connection.ops.quote_name
    titles = ("bench-trigger-a", "bench-trigger-b")
    statements = [f"UPDATE {q(table)} SET {q('title')} = '{title}' WHERE {q('id')} = "
                  f"{int(article.pk)}" for title in titles]
    connection.ensure_connection()
    assert connection.get_autocommit()
    raw = connection.connection.cursor()  # the driver's: no Django, no execute wrappers

    def update(i: int) -> None:
        raw.execute(statements[i % 2])

    def save(i: int) -> None:
        article.title = titles[i % 2]
        article.save(update_fields=["title"])

    def capture_on(on: bool) -> None:
        installed = {name: t for name, t in sql.installed().items() if t == table}
        if on:
            triggers.install()
            if capture.notice_writes not in connection.execute_wrappers:
                connection.execute_wrappers.insert(0, capture.notice_writes)
        else:
            with connection.cursor() as cursor:
                for name in installed:
                    for statement in sql.drop(name, table):
                        cursor.execute(statement)
            connection.execute_wrappers[:] = [
                w for w in connection.execute_wrappers if w is not capture.notice_writes]

    results: dict[str, dict[str, list[float]]] = {w: {"without": [], "with": []}
                                                  for w in WRITES}
    recorded: dict[str, int] = {"without": 0, "with": 0}
    try:
        for side in ("with", "without"):  # warm both paths (connections, the publisher)
            capture_on(side == "with")
            update(0)
            save(1)
        for _ in range(args.rounds):
            for side in ("without", "with"):
                capture_on(side == "with")
                before = ChangeRecord.objects.count()
                results["UPDATE"][side].append(_timed(update, args.writes))
                results["save()"][side].append(_timed(save, args.writes))
                recorded[side] += ChangeRecord.objects.count() - before
    finally:
        capture_on(True)
    # The comparison is real only if one side captured every write and the other none.
    assert recorded == {"without": 0, "with": 2 * args.writes * args.rounds}, recorded
    print(json.dumps({**results, "vendor": connection.vendor, "recorded": recorded}))


if __name__ == "__main__":
    main()
