"""Capture every ORM change of an exposed model into the outbox.

Receivers for post_init (a snapshot, to know what an update changed),
post_save, post_delete and m2m_changed write a :class:`ChangeRecord` in the
writer's own transaction, and ask for a flush after commit: sequence, then publish.
A rolled-back transaction takes its records (and its flush) with it.

Writes that send no per-object signal (``QuerySet.update``, ``bulk_create``,
``bulk_update``, raw SQL) are published with :func:`realtime.publish_changes`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import connections, models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from realtime.events import CREATED, DELETED, UPDATED, json_safe

logger = logging.getLogger(__name__)
SNAPSHOT = "_realtime_snapshot"
CLEARING = "_realtime_clearing"

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
    global _exposed
    _exposed = None


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


def _snapshot(instance: models.Model) -> dict[str, Any]:
    values = instance.__dict__
    return {f.attname: values[f.attname] for f in instance._meta.concrete_fields
            if f.attname in values}


def _on_init(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if concrete(type(instance)) in exposed_models():
        instance.__dict__[SNAPSHOT] = _snapshot(instance)


def _changes(instance: models.Model, update_fields: Iterable[str] | None
             ) -> tuple[list[str] | None, dict[str, Any] | None]:
    """(changed field names, their previous values), or (None, None) when unknown."""
    before = instance.__dict__.get(SNAPSHOT)
    if before is None or instance.pk is None:
        return (list(update_fields) if update_fields else None), None
    names, previous = [], {}
    for field in instance._meta.concrete_fields:
        if field.attname not in before:
            continue
        old = before[field.attname]
        if instance.__dict__.get(field.attname) != old:
            names.append(field.name)
            previous[field.attname] = json_safe(old)
    return names, previous


def _on_save(sender: type[models.Model], instance: models.Model, created: bool,
             update_fields: Iterable[str] | None = None, using: str = "default",
             **kwargs: Any) -> None:
    labels = stream_labels(type(instance))
    if not labels:
        return
    if created:
        changed, previous = None, None
    else:
        changed, previous = _changes(instance, update_fields)
        if changed == []:
            return  # saved without a change: nothing happened that anyone could see
    for label in labels:
        record(using, label, instance.pk, CREATED if created else UPDATED, changed, previous)
    instance.__dict__[SNAPSHOT] = _snapshot(instance)


def _on_delete(sender: type[models.Model], instance: models.Model, using: str = "default",
               **kwargs: Any) -> None:
    # Unlike saves, deleting a multi-table child sends post_delete for each parent
    # row too, so a delete only records the instance's own stream.
    label = concrete(type(instance))._meta.label_lower
    labels = [label] if concrete(type(instance)) in exposed_models() else []
    if not labels:
        return
    row = {f.attname: json_safe(instance.__dict__.get(f.attname))
           for f in instance._meta.concrete_fields if f.attname in instance.__dict__}
    for label in labels:
        record(using, label, instance.pk, DELETED, None, row)


def _m2m_sides(instance: models.Model, sender: type[models.Model], reverse: bool,
               other: type[models.Model]) -> tuple[str, str] | None:
    """(name on the instance's side, name on the other side) of the relation."""
    owner = other if reverse else type(instance)
    for field in owner._meta.many_to_many:
        if field.remote_field.through is sender:
            accessor = field.remote_field.get_accessor_name() or ""
            return (accessor, field.name) if reverse else (field.name, accessor)
    return None


def _on_m2m(sender: type[models.Model], instance: models.Model, action: str, reverse: bool,
            model: type[models.Model], pk_set: set[Any] | None, using: str = "default",
            **kwargs: Any) -> None:
    if action not in ("pre_clear", "post_clear", "post_add", "post_remove"):
        return
    sides = _m2m_sides(instance, sender, reverse, model)
    if sides is None:
        return
    mine, theirs = sides
    if action == "pre_clear":
        related = getattr(instance, mine).values_list("pk", flat=True) if mine else []
        instance.__dict__.setdefault(CLEARING, {})[sender] = set(related)
        return
    if action == "post_clear":
        pk_set = instance.__dict__.get(CLEARING, {}).pop(sender, set())
    if not pk_set:
        return
    # previous={}: no column changed, only the relation (see matching.as_of).
    for label in stream_labels(type(instance)):
        record(using, label, instance.pk, UPDATED, [mine], {})
    for label in stream_labels(model):
        record_many(using, label, sorted(pk_set, key=str), UPDATED,
                    [theirs] if theirs else None, {})


def record(using: str, label: str, pk: Any, op: str, changed: list[str] | None,
           previous: dict[str, Any] | None) -> None:
    """Write one change into the outbox, in the caller's transaction."""
    record_many(using, label, [pk], op, changed, previous)


def record_many(using: str, label: str, pks: Iterable[Any], op: str,
                changed: list[str] | None, previous: dict[str, Any] | None) -> None:
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


def connect() -> None:
    post_init.connect(_on_init, dispatch_uid="realtime.capture.init")
    post_save.connect(_on_save, dispatch_uid="realtime.capture.save")
    post_delete.connect(_on_delete, dispatch_uid="realtime.capture.delete")
    m2m_changed.connect(_on_m2m, dispatch_uid="realtime.capture.m2m")
