"""Did an object match a condition *before* a change?

A subscriber gets LEFT when an update moves an object out of its filter, and
DELETED only for objects it could see and that matched. Both need the condition
evaluated on the old values. Rather than reimplementing Django's lookups in
Python, the condition is rewritten so every column the change touched reads its
old value as a literal, and the database evaluates it with its own semantics.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Exists, Q, QuerySet, Value
from django.db.models.sql.query import Query


def _literal(field: models.Field, raw: Any) -> Any:
    value = None if raw is None else field.to_python(raw)
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    return Value(value, output_field=target)


def as_of(model: type[models.Model], q: Q, previous: dict[str, Any], gone: bool,
          changed_relations: frozenset[str] = frozenset()) -> Q:
    """``q`` with the columns in ``previous`` (attname -> old value) as literals.

    ``gone``: the row no longer exists, so conditions on its reverse relations are
    unknowable. ``changed_relations``: many-to-many relations the change touched,
    whose old members are unknown. Unknowable conditions are treated as met (a LEFT
    or DELETED too many, never one too few).
    """
    rewritten = Q()
    rewritten.connector = q.connector
    rewritten.negated = q.negated
    for child in q.children:
        if isinstance(child, Q):
            rewritten.children.append(as_of(model, child, previous, gone, changed_relations))
        else:
            rewritten.children.append(_child(model, child, previous, gone, changed_relations))
    return rewritten


def _child(model: type[models.Model], child: Any, previous: dict[str, Any], gone: bool,
           changed_relations: frozenset[str]) -> Any:
    if not isinstance(child, tuple):
        return child
    path, value = child
    if isinstance(value, QuerySet):
        # A subquery (a chained filter across a to-many relation, filters.py): what it
        # said before the change is unknown, so it counts as met.
        return Q(pk__isnull=False)
    first, *rest = path.split("__")
    if first in changed_relations:
        return Q(pk__isnull=False)
    try:
        field = model._meta.pk if first == "pk" else model._meta.get_field(first)
    except FieldDoesNotExist:
        return child
    assert field is not None
    if not getattr(field, "concrete", False) or getattr(field, "many_to_many", False):
        return Q(pk__isnull=False) if gone else child  # a reverse or m2m relation
    assert isinstance(field, models.Field)
    attname = field.attname
    if attname not in previous:
        return child
    if isinstance(field, models.ForeignKey) and rest:
        target = field.related_model
        try:
            target._meta.get_field(rest[0])
            traverses = True
        except FieldDoesNotExist:
            traverses = rest[0] == "pk"
        if traverses:
            old = previous[attname]
            related = target._default_manager.filter(pk=old).filter(Q(("__".join(rest), value)))
            return Q(Exists(related))
    lookups = rest or ["exact"]
    return Query(model).build_lookup(lookups, _literal(field, previous[attname]), value)
