"""The output types: one object type per exposed model, plus connections and files."""

from __future__ import annotations

import sys
from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from api_graphql import naming, shapes, type_factory
from api_graphql.model_graph import FieldSpec, ModelGraph, ModelSpec, RelationSpec
from api_graphql.reader import COUNT_SUFFIX
from api_graphql.signatures import graphql_arguments

PAGE_INFO_TYPE = "PageInfo"


def input_annotation(field: FieldSpec) -> Any:
    """What a mutation takes for a column: a shaped one takes its scalar (the amount,
    the country codes)."""
    if field.kind.shape is None or field.is_file:
        return scalar_annotation(field)
    annotation = field.kind.annotation
    if field.many_values:
        return type_factory.list_of(annotation)
    return annotation | None if field.nullable else annotation


def scalar_annotation(field: FieldSpec) -> Any:
    if field.django_field.primary_key:
        return strawberry.ID
    if field.kind.shape is not None:
        return shapes.annotation(field)
    if field.enum is not None:
        annotation = type_factory.ref(field.enum.type_name)
    else:
        annotation = field.kind.annotation
    return annotation | None if field.nullable else annotation


def list_arguments(target: ModelSpec) -> dict[str, tuple[Any, Any]]:
    """The arguments every list of ``target`` takes, at the root or under a relation."""
    return {
        "filters": (type_factory.ref(target.filter_name) | None, UNSET),
        "ordering": (type_factory.list_of(type_factory.ref(target.order_name)) | None, UNSET),
        "offset": (int | None, UNSET),
        "limit": (int | None, UNSET),
    }


def generic_union_name(spec: ModelSpec, relation: RelationSpec) -> str:
    return naming.generic_union_name(spec.type_name, relation.name)


def _relation_fields(spec: ModelSpec, relation: RelationSpec, graph: ModelGraph,
                     taken: set[str]) -> dict[str, Any]:
    if relation.kind == "generic":
        return {relation.name: type_factory.ref(generic_union_name(spec, relation)) | None}
    target = graph.specs[relation.target]
    if not relation.many:
        return {relation.name: type_factory.ref(target.type_name) | None}
    fields = {
        relation.name: type_factory.read_field(
            relation.name,
            type_factory.list_of(type_factory.ref(target.type_name)),
            list_arguments(target),
        )
    }
    count_name = relation.name + COUNT_SUFFIX
    if count_name not in taken:
        fields[count_name] = type_factory.read_field(
            count_name,
            int | None,
            {"filters": (type_factory.ref(target.filter_name) | None, UNSET)},
            description=f"How many {relation.name} match; null without permission to view them.",
        )
    return fields


def build_model_type(spec: ModelSpec, graph: ModelGraph) -> None:
    fields: dict[str, Any] = {f.name: scalar_annotation(f) for f in spec.fields.values()}
    taken = set(fields) | set(spec.relations)
    for relation in spec.relations.values():
        fields.update(_relation_fields(spec, relation, graph, taken))
    for computed in spec.computed.values():
        fields[computed.name] = type_factory.read_field(
            computed.name, computed.type.annotation,
            graphql_arguments(computed.arguments) if computed.arguments else None,
            description=computed.description,
        )
    type_factory.object_type(
        spec.type_name, fields, description=f"{spec.model._meta.verbose_name} ({spec.label})"
    )


def build_shared_types() -> None:
    shapes.build_shared_types()
    type_factory.object_type(
        PAGE_INFO_TYPE,
        {
            "has_next_page": bool,
            "has_previous_page": bool,
            "start_cursor": str | None,
            "end_cursor": str | None,
        },
    )


def build_connection_types(spec: ModelSpec) -> None:
    edge = type_factory.object_type(
        f"{spec.type_name}Edge", {"cursor": str, "node": type_factory.ref(spec.type_name)}
    )
    type_factory.object_type(
        f"{spec.type_name}Connection",
        {
            "edges": type_factory.list_of(edge),
            "page_info": type_factory.ref(PAGE_INFO_TYPE),
            "total_count": int,
        },
    )


def build_generic_unions(graph: ModelGraph) -> None:
    module = sys.modules[type_factory.MODULE_NAME]
    members = tuple(getattr(module, spec.type_name) for spec in graph)
    for spec in graph:
        for relation in spec.relations.values():
            if relation.kind == "generic":
                type_factory.union_type(generic_union_name(spec, relation), members)
