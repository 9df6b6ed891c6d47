"""Django's permissions applied to every read and write, per request user.

A :class:`Scope` answers, for one user, which rows of each model may be read or
written. It asks each model's :class:`~api_graphql.registry.ModelConfig`, which asks
Django's ``has_perm`` (the admin's rule) unless the project overrides it.
"""

from __future__ import annotations

import hashlib
from typing import Any

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
            parts = [repr((spec.label, self.read_rule(spec))) for spec in self.graph]
            self._key = hashlib.blake2b("\n".join(parts).encode(), digest_size=12).hexdigest()
        return self._key
