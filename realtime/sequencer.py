"""Assign each committed change record its durable cursor.

A pass runs right after a commit (and from the hub's poll, for rows whose writer
died before it could run one). Its first statement is a write to the ``*`` row,
which serializes passes on every database: a row lock on PostgreSQL, the write
lock on SQLite. Inside, pending rows get the next seqs of their model in id order,
so the writes of one transaction keep their order, and a row that commits later
than another always gets a larger seq.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from typing import Any

import orjson
from django.db import IntegrityError, connections, transaction
from django.db.models import F

from realtime.events import ChangeEvent
from realtime.models import ChangeRecord, StreamPosition

logger = logging.getLogger(__name__)
LOCK_ROW = "*"
BATCH = 2000


def _lock(using: str) -> None:
    locked = StreamPosition.objects.using(using).filter(model=LOCK_ROW).update(
        last_seq=F("last_seq") + 1
    )
    if not locked:
        try:
            with transaction.atomic(using=using):
                StreamPosition.objects.using(using).create(model=LOCK_ROW)
        except IntegrityError:
            pass
        StreamPosition.objects.using(using).filter(model=LOCK_ROW).update(
            last_seq=F("last_seq") + 1
        )


def assign_sequence(using: str = "default") -> list[ChangeEvent]:
    """Sequence every committed, unsequenced record; return them as events in order."""
    one_pass = _postgresql_pass if connections[using].vendor == "postgresql" else _portable_pass
    events: list[ChangeEvent] = []
    while True:
        batch = one_pass(using)
        events.extend(batch)
        if len(batch) < BATCH:
            return events


def _portable_pass(using: str) -> list[ChangeEvent]:
    """Any database: the ``*`` row's UPDATE serializes passes, then the ORM numbers."""
    with transaction.atomic(using=using):
        _lock(using)
        pending = list(
            ChangeRecord.objects.using(using).filter(seq__isnull=True).order_by("id")[:BATCH]
        )
        if not pending:
            return []
        by_model: dict[str, list[ChangeRecord]] = defaultdict(list)
        for record in pending:
            by_model[record.model].append(record)
        positions = {
            p.model: p
            for p in StreamPosition.objects.using(using).filter(model__in=list(by_model))
        }
        for label, records in by_model.items():
            position = positions.get(label)
            if position is None:
                position = StreamPosition.objects.using(using).create(model=label)
                positions[label] = position
            for record in records:
                position.last_seq += 1
                record.seq = position.last_seq
        ChangeRecord.objects.using(using).bulk_update(pending, ["seq"])
        StreamPosition.objects.using(using).bulk_update(
            [positions[label] for label in by_model], ["last_seq"]
        )
    return [to_event(record) for record in pending]


#: One message numbers the pending rows and advances the positions: the advisory
#: lock, then one statement. Sent without parameters it travels by the simple query
#: protocol, where the statements of one message form one transaction (so one round
#: trip in all) and each takes its own snapshot, taken after the lock is held: it
#: sees every earlier pass committed.
_POSTGRESQL_PASS = """
SELECT pg_advisory_xact_lock({lock});
WITH pending AS (
    SELECT id, model FROM {records} WHERE seq IS NULL ORDER BY id LIMIT {batch}
), counts AS (
    SELECT model, count(*) AS n FROM pending GROUP BY model
), advanced AS (
    INSERT INTO {positions} (model, last_seq) SELECT model, n FROM counts
    ON CONFLICT (model) DO UPDATE SET last_seq = {positions}.last_seq + EXCLUDED.last_seq
    RETURNING model, last_seq
), numbered AS (
    SELECT p.id, a.last_seq - c.n + row_number() OVER (PARTITION BY p.model ORDER BY p.id)
           AS seq
    FROM pending p JOIN counts c USING (model) JOIN advanced a USING (model)
)
UPDATE {records} r SET seq = numbered.seq FROM numbered WHERE r.id = numbered.id
RETURNING r.id, r.model, r.object_pk, r.op, r.changed_fields, r.previous, r.seq
"""
#: pg_advisory_xact_lock key of sequencing passes ("realtime" in ASCII).
_ADVISORY_LOCK = 0x7265616C74696D65


def _postgresql_pass(using: str) -> list[ChangeEvent]:
    """PostgreSQL: the same pass in one round trip instead of six ORM statements (it
    runs after every commit, on the writer's time)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    sql = _POSTGRESQL_PASS.format(lock=_ADVISORY_LOCK, batch=BATCH,
                                  records=quote(ChangeRecord._meta.db_table),
                                  positions=quote(StreamPosition._meta.db_table))
    # In a transaction already (the caller's, or AUTOCOMMIT off) the statements would
    # not commit by themselves: atomic() commits them, or keeps a failure in a savepoint.
    scope = (contextlib.nullcontext() if connection.get_autocommit()
             else transaction.atomic(using=using))
    with scope, connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.nextset()  # past the lock's result, to the numbered rows
        rows = sorted(cursor.fetchall())
    return [event(model, object_pk, op, int(seq), _json(changed), _json(previous))
            for _, model, object_pk, op, changed, previous, seq in rows]


def _json(value: Any) -> Any:
    """Django has psycopg hand JSON columns over as text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def to_event(record: ChangeRecord) -> ChangeEvent:
    assert record.seq is not None
    return event(record.model, record.object_pk, record.op, record.seq,
                 record.changed_fields, record.previous)


def event(model: str, object_pk: str, op: str, seq: int, changed_fields: Any,
          previous: Any) -> ChangeEvent:
    """The event of one sequenced record, from its columns."""
    fields = tuple(changed_fields) if changed_fields is not None else None
    return ChangeEvent(model, object_pk, op, seq, fields, previous)


def versions_from_database(labels: tuple[str, ...], using: str = "default") -> tuple[int, ...]:
    """The last seq of each model, as committed. It runs on every cached read, so it
    is plain SQL: building the ORM query would cost more than running it."""
    if not labels:
        return ()
    connection = connections[using]
    table = connection.ops.quote_name(StreamPosition._meta.db_table)
    placeholders = ", ".join(["%s"] * len(labels))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT model, last_seq FROM {table} WHERE model IN ({placeholders})", labels)
        found = dict(cursor.fetchall())
    return tuple(int(found.get(label, 0)) for label in labels)


def all_positions(using: str = "default") -> dict[str, int]:
    return {label: int(seq) for label, seq in StreamPosition.objects.using(using)
            .exclude(model=LOCK_ROW).values_list("model", "last_seq")}


def position(model_label: str, using: str = "default") -> int:
    """The last seq assigned to a model (0 before its first change)."""
    found = StreamPosition.objects.using(using).filter(model=model_label).values_list(
        "last_seq", flat=True
    ).first()
    return int(found or 0)
