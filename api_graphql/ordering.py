"""Ordering: ``ordering: [{author: {username: ASC}}, {created_at: DESC}]``.

Each item names one field (or a relation and a field of its target); items apply
in order. The primary key is always the last tie-breaker so pages are stable.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, OrderBy

from api_graphql import type_factory
from api_graphql.computed import annotation_subquery
from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.model_graph import ModelGraph, ModelSpec
from api_graphql.permissions import Scope

DIRECTIONS = [
    "ASC",
    "DESC",
    "ASC_NULLS_FIRST",
    "ASC_NULLS_LAST",
    "DESC_NULLS_FIRST",
    "DESC_NULLS_LAST",
]
ORDERING_ENUM = "Ordering"


def build_ordering_enum() -> Any:
    return type_factory.enum_type(ORDERING_ENUM, DIRECTIONS, "Sort direction, and where nulls go.")


def build_model_order(spec: ModelSpec, graph: ModelGraph) -> None:
    direction = type_factory.ref(ORDERING_ENUM)
    fields: dict[str, Any] = {}
    for field in spec.fields.values():
        if field.kind.name not in {"JSON", "Base64"}:
            fields[field.name] = direction | None
    for relation in spec.relations.values():
        if not relation.many and relation.kind != "generic":
            fields[relation.name] = type_factory.ref(graph.specs[relation.target].order_name) | None
    for computed in spec.computed.values():
        if computed.column is not None and computed.column.kind.name not in {"JSON", "Base64"}:
            fields[computed.name] = direction | None
    type_factory.input_type(
        spec.order_name, fields, f"One sort key of {spec.type_name}: set exactly one field.",
        one_of=True,
    )


def _order_by(path: str | Any, direction: str) -> OrderBy:
    expression = F(path) if isinstance(path, str) else path
    nulls = {"NULLS_FIRST": {"nulls_first": True}, "NULLS_LAST": {"nulls_last": True}}
    base, _, suffix = direction.partition("_")
    kwargs = nulls.get(suffix, {})
    return expression.desc(**kwargs) if base == "DESC" else expression.asc(**kwargs)


def compile_ordering(
    graph: ModelGraph, scope: Scope, spec: ModelSpec, items: list[dict[str, Any]] | None
) -> list[OrderBy]:
    """The ORDER BY of a list: the client's keys, or the model's default, then the pk."""
    result: list[OrderBy] = []
    for item in items or ():
        result.append(_item(graph, scope, spec, item, "", 0))
    if not result:
        for entry in spec.model._meta.ordering or ():
            if isinstance(entry, str):
                name = entry.lstrip("-?")
                if name and name != "?":
                    result.append(_order_by(name, "DESC" if entry.startswith("-") else "ASC"))
            elif isinstance(entry, OrderBy):
                result.append(entry)
    result.append(_order_by("pk", "ASC"))
    return result


def _item(graph: ModelGraph, scope: Scope, spec: ModelSpec, item: dict[str, Any],
          prefix: str, depth: int) -> OrderBy:
    entries = [(key, value) for key, value in item.items() if value is not None]
    if len(entries) != 1:
        raise GraphQLUserError(f"Each {spec.order_name} item sets exactly one field.")
    key, value = entries[0]
    if key in spec.fields:
        return _order_by(prefix + spec.fields[key].attname, getattr(value, "value", value))
    computed = spec.computed.get(key)
    if computed is not None and computed.is_sql:
        return _order_by(annotation_subquery(spec, computed, prefix),
                         getattr(value, "value", value))
    relation = spec.relations.get(key)
    if relation is None or depth > 4:
        raise GraphQLUserError(f"Cannot order {spec.type_name} by '{key}'.")
    target = graph.specs[relation.target]
    if scope.read_rule(target) is not True:
        raise PermissionDenied(f"You do not have permission to order by {key}.")
    return _item(graph, scope, target, value, f"{prefix}{relation.query_name}__", depth + 1)
