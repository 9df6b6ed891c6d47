"""Django's permissions applied to every read and write, per request user.

A :class:`Scope` answers, for one user, which rows of each model may be read or
written. It asks each model's :class:`~api_graphql.registry.ModelConfig`, which asks
Django's ``has_perm`` (the admin's rule) unless the project overrides it.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import uuid
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Q, QuerySet

from api_graphql.errors import PermissionDenied
from api_graphql.model_graph import ModelGraph, ModelSpec
from api_graphql.registry import Action, RowRule


def reroot(q: Q, prefix: str) -> Q:
    """The same condition seen from another model: ``Q(published=True)`` under
    ``article`` becomes ``Q(article__published=True)``."""
    rerooted = Q()
    rerooted.connector = q.connector
    rerooted.negated = q.negated
    children: list[Any] = list(q.children)
    for child in children:
        if isinstance(child, Q):
            rerooted.children.append(reroot(child, prefix))
        else:
            key, value = child
            rerooted.children.append((f"{prefix}__{key}", value))
    return rerooted


_PLAIN = (str, int, float, bool, type(None), decimal.Decimal, uuid.UUID,
          datetime.date, datetime.time, datetime.timedelta)


def fingerprint(value: Any) -> Any:
    """A value of a row rule as a comparable, printable structure naming what it selects.

    ``repr`` is not enough: a model instance prints as its ``__str__`` (two users called
    "ada" print alike) and a queryset as its first rows (and runs its query). Here an
    instance is its model and primary key, a queryset its SQL and parameters, an
    expression its deconstruction; anything unknown is never equal to anything, so two
    rules can only share a fingerprint when they select the same rows.
    """
    if isinstance(value, Q):
        return ("Q", value.connector, value.negated,
                tuple(fingerprint(child) for child in value.children))
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, models.Model):
        return ("row", value._meta.label_lower, fingerprint(value.pk))
    if isinstance(value, QuerySet):
        try:
            sql, params = value.query.sql_with_params()
        except EmptyResultSet:
            return ("rows", value.model._meta.label_lower, "empty")
        return ("rows", value.model._meta.label_lower, sql,
                tuple(fingerprint(p) for p in params))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(fingerprint(item) for item in value))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted((fingerprint(item) for item in value), key=repr)))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((k, fingerprint(v)) for k, v in value.items()),
                                     key=repr)))
    deconstruct = getattr(value, "deconstruct", None)
    if callable(deconstruct) and not isinstance(value, type):
        try:
            path, args, kwargs = deconstruct()
        except Exception:
            pass
        else:
            return ("expr", path, fingerprint(tuple(args)), fingerprint(dict(kwargs)))
    # Unknown: equal to nothing else, ever (an id() could be reused by a later object).
    return ("object", type(value).__qualname__, uuid.uuid4().hex)


class Scope:
    """What one user may see and change, cached for the life of a request."""

    def __init__(self, user: Any, graph: ModelGraph) -> None:
        self.user = user
        self.graph = graph
        self._read: dict[str, RowRule] = {}
        self._key: str | None = None

    def read_rule(self, spec: ModelSpec) -> RowRule:
        rule = self._read.get(spec.label)
        if rule is None:
            rule = spec.config.read_filter(self.user)
            self._read[spec.label] = rule
        return rule

    def can_read(self, spec: ModelSpec) -> bool:
        return self.read_rule(spec) is not False

    def readable(self, spec: ModelSpec, queryset: QuerySet | None = None) -> QuerySet | None:
        """The rows of ``spec`` this user may read, or None when none may be."""
        rule = self.read_rule(spec)
        if rule is False:
            return None
        qs = queryset if queryset is not None else spec.model._default_manager.all()
        return qs if rule is True else qs.filter(rule)

    def require_read(self, spec: ModelSpec) -> None:
        if not self.can_read(spec):
            raise PermissionDenied(f"You do not have permission to view {spec.type_name}.")

    def write_rule(self, spec: ModelSpec, action: Action) -> RowRule:
        return spec.config.write_filter(self.user, action)

    @property
    def key(self) -> str:
        """Equal for two users who may read exactly the same rows of every model.

        Subscriptions are grouped by it, so identical subscriptions of users with the
        same rights share one execution per event.
        """
        if self._key is None:
            parts = [repr((spec.label, fingerprint(self.read_rule(spec)))) for spec in self.graph]
            self._key = hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()
        return self._key
