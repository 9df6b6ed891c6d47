"""What a delete takes with it, checked as the admin checks it.

Django's delete follows every ``on_delete=CASCADE`` pointing at the rows; the admin's
``get_deleted_objects`` collects the same objects first and refuses the delete when the
user lacks the delete permission on any of them. ``delete_<model>`` and
``bulk_delete_<model>`` ask Django's own ``Collector`` the same question before anything
is deleted: a cascade into rows the user may not delete is FORBIDDEN (naming the model),
and ``PROTECT`` / ``RESTRICT`` raise Django's ``ProtectedError`` / ``RestrictedError``,
which the callers turn into a ``protected`` field error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, router
from django.db.models import Q, QuerySet
from django.db.models.deletion import Collector

from api_graphql.errors import PermissionDenied

if TYPE_CHECKING:
    from collections.abc import Sequence

    from api_graphql.context import RequestContext
    from api_graphql.model_graph import ModelSpec

#: Django's refusals of a delete that the project's relations forbid.
PROTECTED = (models.ProtectedError, models.RestrictedError)


def checked_collector(context: RequestContext, spec: ModelSpec, rows: Sequence[models.Model],
                      what: str) -> Collector:
    """Django's collector for deleting ``rows``, refused (PermissionDenied) when it would
    delete an object the user may not delete. Raises ``PROTECTED`` as Django does."""
    collector = Collector(using=router.db_for_write(spec.model))
    collector.collect(rows)
    refused = _undeletable(context, spec, collector)
    if refused is not None:
        raise PermissionDenied(f"Deleting {what} would also delete {refused} objects "
                               "you do not have permission to delete.")
    return collector


def _undeletable(context: RequestContext, spec: ModelSpec, collector: Collector) -> str | None:
    """The first model the collector would delete rows of that the user may not delete."""
    own = {spec.model._meta.concrete_model,
           *spec.model._meta.get_parent_list()}
    collected: dict[type[models.Model], list[Any]] = {}
    for model, instances in collector.data.items():
        collected.setdefault(model, []).extend(obj.pk for obj in instances)
    for qs in collector.fast_deletes:
        if isinstance(qs, QuerySet):
            collected.setdefault(qs.model, []).extend(qs.values_list("pk", flat=True))
    graph = context.built.graph
    for model, pks in collected.items():
        # Own rows (and the parent rows of a multi-table child) are what was asked
        # for; rows of an automatic many-to-many table are links, not objects.
        if model._meta.concrete_model in own or model._meta.auto_created or not pks:
            continue
        other = graph.get(model)
        if other is None:
            opts = model._meta
            user = context.user
            if not (user is not None and getattr(user, "is_active", False)
                    and user.has_perm(f"{opts.app_label}.delete_{opts.model_name}")):
                return model._meta.label
            continue
        rule = context.scope.write_rule(other, "delete")
        if rule is False:
            return other.type_name
        if isinstance(rule, Q):
            allowed = model._default_manager.filter(rule).filter(pk__in=pks).count()
            if allowed != len(set(pks)):
                return other.type_name
    return None
