"""Announce a change no row write of the model shows.

The database captures every write to an exposed model's table (see
:mod:`realtime.triggers`), ``QuerySet.update``, ``bulk_create`` and raw SQL
included. :func:`publish_changes` is for what it cannot see: a value computed from
another table, say, that subscribers should re-read::

    publish_changes(Author, [author.pk], "UPDATED", changed_fields=["article_count"])

The events are recorded in the caller's transaction. What the previous values were
is unknown, so a LEFT is sent to subscribers who may still see the object but
whose filter it no longer matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, router

from realtime.capture import record_many, stream_labels
from realtime.events import CREATED, DELETED, UPDATED

OPS = {"CREATED": CREATED, "UPDATED": UPDATED, "DELETED": DELETED}


def publish_changes(model: type[models.Model], pks: Iterable[Any], op: str = UPDATED,
                    changed_fields: Iterable[str] | None = None,
                    using: str | None = None) -> None:
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}")
    alias = using or router.db_for_write(model)
    pk_list = list(pks)
    changed = list(changed_fields) if changed_fields is not None else None
    for label in stream_labels(model):
        record_many(alias, label, pk_list, op, changed, None)
