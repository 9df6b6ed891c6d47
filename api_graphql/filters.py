"""Django-style filters: one input type per model, compiled to a ``Q``.

``{title: {icontains: "django"}, author: {username: {exact: "ada"}}, OR: [...]}``
means ``Q(title__icontains="django") & Q(author__username__exact="ada") & (...)``.
The fields of one object, ``AND`` and ``NOT`` combine with AND; ``OR`` lists
alternatives. All of that is one ``filter()`` call, whose conditions on a to-many
relation are about the same related row; ``CHAIN`` lists filters applied one after
the other, as Django's ``filter(...).filter(...)``, where each one may match another
related row (``CHAIN: [{tags: {name: "a"}}, {tags: {name: "b"}}]``: tagged both).
Filtering through a relation needs read permission on its target, and only the
target rows the user may read can match.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from api_graphql import field_types, type_factory
from api_graphql.computed import annotation_condition
from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.field_types import ScalarKind
from api_graphql.model_graph import FieldSpec, ModelGraph, ModelSpec, RelationSpec
from api_graphql.permissions import Scope, reroot

LIST_LOOKUPS = {"in", "range"}
TEXT_LOOKUPS = set(field_types.TEXT)
MAX_IN_LIST = 1000


def scalar_filter_name(kind: ScalarKind) -> str:
    return f"{kind.name}Filter"


def enum_filter_name(enum_type_name: str) -> str:
    return f"{enum_type_name}Filter"


def build_scalar_filters(scalar_annotations: dict[str, Any]) -> None:
    """The shared per-scalar filter inputs: ``StringFilter``, ``IntFilter`` ..."""
    built: set[str] = set()
    kinds = [*field_types.BY_NAME.values()]
    for kind in kinds:
        name = scalar_filter_name(kind)
        if name in built:
            continue
        built.add(name)
        annotation = scalar_annotations[kind.name]
        fields: dict[str, Any] = {}
        for lookup in kind.lookups:
            if lookup == "isnull":
                fields[lookup] = bool | None
            elif lookup in LIST_LOOKUPS:
                fields[lookup] = type_factory.list_of(annotation) | None
            elif lookup == "has_key":
                fields[lookup] = str | None
            else:
                fields[lookup] = annotation | None
        for transform, target in kind.transforms:
            fields[transform] = type_factory.ref(f"{target}Filter") | None
        type_factory.input_type(name, fields, f"Lookups on a {kind.name} column.")


def build_enum_filter(enum_type_name: str, enum_annotation: Any) -> None:
    type_factory.input_type(
        enum_filter_name(enum_type_name),
        {
            "exact": enum_annotation | None,
            "in": type_factory.list_of(enum_annotation) | None,
            "isnull": bool | None,
        },
    )


def build_model_filter(spec: ModelSpec, graph: ModelGraph) -> None:
    fields: dict[str, Any] = {}
    for field in spec.fields.values():
        if field.enum is not None:
            fields[field.name] = type_factory.ref(enum_filter_name(field.enum.type_name)) | None
        elif field.is_file:
            fields[field.name] = type_factory.ref(scalar_filter_name(field_types.STRING)) | None
        else:
            fields[field.name] = type_factory.ref(scalar_filter_name(field.kind)) | None
    for relation in spec.relations.values():
        if relation.kind == "generic":
            continue
        target = graph.specs[relation.target]
        fields[relation.name] = type_factory.ref(target.filter_name) | None
    for computed in spec.computed.values():
        if computed.column is not None:  # an annotation: SQL, so it filters like a column
            kind_filter = scalar_filter_name(computed.column.kind)
            fields[computed.name] = type_factory.ref(kind_filter) | None
    own = type_factory.ref(spec.filter_name)
    fields["AND"] = type_factory.list_of(own) | None
    fields["CHAIN"] = type_factory.list_of(own) | None
    fields["OR"] = type_factory.list_of(own) | None
    fields["NOT"] = own | None
    type_factory.input_type(
        spec.filter_name, fields, f"Conditions on {spec.type_name}, with Django lookup names."
    )


def _lookup_q(field: FieldSpec, kind: ScalarKind, path: str, lookup: str, operand: Any) -> Q:
    """``path__lookup=operand``, for a lookup the column's field registers; a foreign
    key column has no ``range`` (Django's related lookups stop at comparisons), so a
    range there is the pair of bounds."""
    if kind is field.kind and field.django_field.get_lookup(lookup) is None:
        if lookup == "range":
            low, high = operand
            return Q((f"{path}__gte", low)) & Q((f"{path}__lte", high))
        raise GraphQLUserError(f"'{path}' does not support the lookup '{lookup}'.")
    return Q((f"{path}__{lookup}", operand))


@dataclass
class CompiledFilter:
    q: Q
    #: True when the condition crosses a to-many relation (rows could repeat).
    crosses_many: bool


class FilterCompiler:
    """Turns a filter input (a dict of GraphQL names) into a Q for one model."""

    def __init__(self, graph: ModelGraph, scope: Scope) -> None:
        self.graph = graph
        self.scope = scope
        self.crosses_many = False

    def compile(self, spec: ModelSpec, value: dict[str, Any] | None) -> CompiledFilter:
        self.crosses_many = False
        q = self._object(spec, value or {}, "", depth=0)
        return CompiledFilter(q, self.crosses_many)

    def _object(self, spec: ModelSpec, value: dict[str, Any], prefix: str, depth: int) -> Q:
        if depth > 8:
            raise GraphQLUserError("Filters nest too deeply (more than 8 levels).")
        parts: list[Q] = []
        for key, item in value.items():
            if item is None:
                continue
            if key == "AND":
                parts.extend(self._object(spec, sub, prefix, depth + 1) for sub in item)
            elif key == "CHAIN":
                parts.extend(self._chained(spec, sub, prefix, depth + 1) for sub in item)
            elif key == "OR":
                if item:
                    alternatives = [self._object(spec, sub, prefix, depth + 1) for sub in item]
                    parts.append(functools.reduce(operator.or_, alternatives))
            elif key == "NOT":
                parts.append(~self._object(spec, item, prefix, depth + 1))
            elif key in spec.fields:
                field = spec.fields[key]
                parts.append(self._lookups(spec, field, field.kind, item, prefix + key))
            elif key in spec.relations:
                parts.append(self._relation(spec.relations[key], item, prefix, depth))
            elif key in spec.computed and spec.computed[key].column is not None:
                computed = spec.computed[key]
                lookups = self._lookups(spec, computed.column, computed.column.kind, item, key)
                parts.append(annotation_condition(spec, computed, prefix, lookups))
            else:
                raise GraphQLUserError(f"{spec.filter_name} has no field '{key}'.")
        return functools.reduce(operator.and_, parts, Q())

    def _chained(self, spec: ModelSpec, value: dict[str, Any], prefix: str, depth: int) -> Q:
        """One filter of a CHAIN. Django joins a to-many relation again for each
        filter() call; one Q cannot, so a filter that crosses one is a subquery on the
        pk (which also repeats no row). Any other is the plain condition."""
        outer, self.crosses_many = self.crosses_many, False
        q = self._object(spec, value, prefix, depth)
        if self.crosses_many:
            rows = spec.model._base_manager.filter(self._object(spec, value, "", depth))
            q = Q((f"{prefix}pk__in", rows.values("pk")))
        self.crosses_many = outer
        return q

    def _relation(self, relation: RelationSpec, value: dict[str, Any], prefix: str,
                  depth: int) -> Q:
        target = self.graph.specs[relation.target]
        rule = self.scope.read_rule(target)
        if rule is False:
            raise PermissionDenied(
                f"You do not have permission to filter on {relation.name} ({target.type_name})."
            )
        if relation.many:
            self.crosses_many = True
        path = prefix + relation.query_name
        q = self._object(target, value, path + "__", depth + 1)
        if rule is not True:
            q &= reroot(rule, path)
        return q

    def _lookups(self, spec: ModelSpec, field: FieldSpec, kind: ScalarKind,
                 value: dict[str, Any], path: str) -> Q:
        parts: list[Q] = []
        transforms = dict(kind.transforms)
        for lookup, operand in value.items():
            if operand is None:
                continue
            if lookup in transforms:
                target_kind = field_types.BY_NAME[transforms[lookup]]
                parts.append(
                    self._lookups(spec, field, target_kind, operand, f"{path}__{lookup}")
                )
                continue
            converted = self._operand(field, kind, lookup, operand, path)
            parts.append(_lookup_q(field, kind, path, lookup, converted))
        return functools.reduce(operator.and_, parts, Q())

    def _operand(self, field: FieldSpec, kind: ScalarKind, lookup: str, operand: Any,
                 path: str) -> Any:
        if lookup == "isnull":
            return bool(operand)
        if lookup in LIST_LOOKUPS:
            if lookup == "range" and len(operand) != 2:
                raise GraphQLUserError(f"'{path}' range needs exactly two values.")
            if len(operand) > MAX_IN_LIST:
                raise GraphQLUserError(f"'{path}' {lookup} takes at most {MAX_IN_LIST} values.")
            return [self._value(field, kind, item, path) for item in operand]
        if lookup in TEXT_LOOKUPS or lookup == "has_key":
            return str(operand)
        return self._value(field, kind, operand, path)

    def _value(self, field: FieldSpec, kind: ScalarKind, value: Any, path: str) -> Any:
        if field.enum is not None and kind is field.kind:
            name = getattr(value, "value", value)
            return field.enum.value_by_name.get(name, name)
        if kind is not field.kind or field.is_file:
            return value  # a transform (year, date...) or a file name: already typed
        try:
            return field.django_field.to_python(value)
        except (ValidationError, ValueError, TypeError) as error:
            message = (
                "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            )
            raise GraphQLUserError(f"Invalid value for '{path}': {message}") from None
