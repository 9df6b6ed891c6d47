"""Publish the writes Django sends no per-object signal for.

``QuerySet.update``, ``bulk_create``, ``bulk_update`` and raw SQL bypass
post_save/post_delete. Call :func:`publish_changes` in the same transaction as the
write, so the events commit (or roll back) with it::

    with transaction.atomic():
        ids = list(Article.objects.filter(author=a).values_list("pk", flat=True))
        Article.objects.filter(pk__in=ids).update(published=True)
        publish_changes(Article, ids, "UPDATED", changed_fields=["published"])

Subscribers then receive these as any other event. What the previous values were
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
