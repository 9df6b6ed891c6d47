"""What is captured, and noticing this process's captured writes.

The database captures every change of an exposed model: row-level triggers
(:mod:`realtime.triggers`) write the outbox in the writer's own statement,
whoever the writer is. This process only needs to know *when* to sequence and
publish: every INSERT, UPDATE or DELETE on a captured table that this process runs
asks for a flush after its transaction commits (at once in autocommit). Writes
by other programs are found by the hubs' poll (and, on PostgreSQL, woken by NOTIFY).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connections, models, transaction
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)
_exposed: frozenset[type[models.Model]] | None = None


def exposed_models() -> frozenset[type[models.Model]]:
    """Concrete models whose changes are captured (the API's exposed models)."""
    global _exposed
    if _exposed is None:
        from api_graphql.registry import site

        _exposed = frozenset(
            concrete(m) for m in site.exposed_models() if m._meta.app_label != "realtime"
        )
    return _exposed


def reset_exposed() -> None:
    global _exposed, _tables
    _exposed = None
    _tables = None


def concrete(model: type[models.Model]) -> type[models.Model]:
    """The model whose table holds the rows (proxies share it)."""
    return model._meta.concrete_model or model


def stream_labels(model: type[models.Model]) -> list[str]:
    """The streams a change of ``model`` belongs to: its own, and its exposed parents'
    (a Restaurant saved is a Place changed too)."""
    exposed = exposed_models()
    base = concrete(model)
    chain = [base, *base._meta.get_parent_list()]
    return [m._meta.label_lower for m in chain if m in exposed]


def record_many(using: str, label: str, pks: Iterable[Any], op: str,
                changed: list[str] | None, previous: dict[str, Any] | None) -> None:
    """Write changes into the outbox, in the caller's transaction (what the triggers
    write for row changes; :func:`realtime.publish_changes` for anything else)."""
    from realtime.models import ChangeRecord

    records = [ChangeRecord(model=label, object_pk=str(pk), op=op, changed_fields=changed,
                            previous=previous) for pk in pks]
    if records:
        ChangeRecord.objects.using(using).bulk_create(records)
        schedule_flush(using)


_flushers: dict[str, Any] = {}


def schedule_flush(using: str) -> None:
    """Flush once after the current transaction commits (at once in autocommit)."""
    flush = _flushers.get(using)
    if flush is None:
        def flush(using: str = using) -> None:
            from realtime.publisher import flush_committed

            flush_committed(using)

        _flushers[using] = flush
    connection = connections[using]
    pending: list[Any] = list(connection.run_on_commit)
    if connection.in_atomic_block and any(entry[1] is flush for entry in pending):
        return
    transaction.on_commit(flush, using=using)


_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|MERGE|REPLACE)\b", re.IGNORECASE)
_tables: re.Pattern[str] | None = None


def captured_tables() -> re.Pattern[str]:
    """Matches SQL naming a table the triggers capture (quoted or not)."""
    global _tables
    if _tables is None:
        from realtime.triggers import plan

        names = sorted({capture.table for capture in plan()}, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, names))
        _tables = re.compile(rf"\b(?:{alternatives})\b" if names else r"(?!)")
    return _tables


#: True while ``migrate`` runs: the outbox may not exist yet, the poll sequences later.
migrating = False


def notice_writes(execute: Callable[..., Any], sql: Any, params: Any, many: bool,
                  context: dict[str, Any]) -> Any:
    """An execute wrapper on every connection: after a write to a captured table, a
    flush once the transaction commits (the trigger has written the record)."""
    result = execute(sql, params, many, context)
    if (not migrating and isinstance(sql, str) and _WRITE.match(sql)
            and captured_tables().search(sql)):
        connection = context["connection"]
        if (connection.vendor == "sqlite" and connection.get_autocommit()
                and "RETURNING" in sql.upper()):
            _flush_on_close(context["cursor"], connection.alias)
        else:
            schedule_flush(connection.alias)
    return result


def _flush_on_close(cursor: Any, using: str) -> None:
    """SQLite commits an autocommit statement with RETURNING (a save()'s INSERT) when
    it is finished, after Django reads the rows: a flush now would open a transaction
    around it. Django closes the cursor right after reading; flush then."""
    close = cursor.cursor.close

    def close_then_flush() -> None:
        close()
        del cursor.close
        schedule_flush(using)

    cursor.close = close_then_flush


def _wrap(sender: Any, connection: Any, **kwargs: Any) -> None:
    if notice_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, notice_writes)


def _migrating(sender: Any, **kwargs: Any) -> None:
    global migrating
    migrating = True


def _migrated(sender: Any, **kwargs: Any) -> None:
    global migrating
    migrating = False


def connect() -> None:
    from django.db.models.signals import post_migrate, pre_migrate

    connection_created.connect(_wrap, dispatch_uid="realtime.capture.wrap")
    pre_migrate.connect(_migrating, dispatch_uid="realtime.capture.migrating")
    post_migrate.connect(_migrated, dispatch_uid="realtime.capture.migrated")
