"""Assemble the Strawberry schema from the model graph, once per process.

Order of construction: shared scalars and enums, then per model its filter,
ordering, object and connection types, then the root fields of every module that
contributes them (queries here, mutations and auth, plus contributors registered
from outside such as ``realtime``'s subscriptions).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import GraphQLSchema
from strawberry.schema.config import StrawberryConfig

from api_graphql import (
    actions,
    aggregates,
    filters,
    handwritten,
    ordering,
    scalars,
    scopes,
    type_factory,
    types,
    uploads,
)
from api_graphql.field_types import BY_NAME
from api_graphql.model_graph import ModelGraph
from api_graphql.queries import model_query_fields
from api_graphql.registry import ExposureRegistry, site
from api_graphql.root_fields import Operation, RootField

#: Something outside this app that adds root fields (and the types they need).
Contributor = Callable[[ModelGraph], list[RootField]]
_contributors: list[Contributor] = []


def add_contributor(contributor: Contributor) -> None:
    """Plug root fields into every schema built from now on (idempotent)."""
    if contributor not in _contributors:
        _contributors.append(contributor)
    reset_schema()


@dataclass
class BuiltSchema:
    graph: ModelGraph
    strawberry_schema: strawberry.Schema
    root_fields: dict[Operation, dict[str, RootField]]
    build_seconds: float
    caches: dict[str, Any] = field(default_factory=dict)

    @property
    def graphql_schema(self) -> GraphQLSchema:
        return self.strawberry_schema._schema

    def sdl(self) -> str:
        return self.strawberry_schema.as_str() + "\n"


def _scalar_annotations() -> dict[str, Any]:
    return {name: (strawberry.ID if name == "ID" else kind.annotation)
            for name, kind in BY_NAME.items()}


def _root_type(name: str, fields: list[RootField]) -> type | None:
    if not fields:
        return None
    return type_factory.object_type(name, {f.name: f.strawberry_field() for f in fields})


@contextlib.contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """A build allocates millions of objects and keeps nearly all of them (the types
    refer to each other): the cyclic collector's passes over them were a quarter to
    a third of the build and freed little. Reference counting still frees the rest."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_schema(registry: ExposureRegistry = site) -> BuiltSchema:
    with _cyclic_collector_paused():
        return _build(registry)


def _build(registry: ExposureRegistry) -> BuiltSchema:
    from api_graphql import bulk
    from api_graphql.auth import auth_fields
    from api_graphql.mutations import (
        build_mutation_inputs,
        build_shared_inputs,
        model_mutation_fields,
    )

    started = time.perf_counter()
    type_factory.reset()
    graph = ModelGraph(registry)
    filters.build_scalar_filters(_scalar_annotations())
    ordering.build_ordering_enum()
    types.build_shared_types()
    build_shared_inputs()
    bulk.build_shared_types()
    for spec in graph:
        for field_spec in spec.fields.values():
            if field_spec.enum is not None:
                enum = field_spec.enum
                annotation = type_factory.enum_type(enum.type_name, list(enum.value_by_name))
                filters.build_enum_filter(enum.type_name, annotation)
    for spec in graph:
        scopes.build_scope_input(spec)
        filters.build_model_filter(spec, graph)
        ordering.build_model_order(spec, graph)
        types.build_model_type(spec, graph)
        types.build_connection_types(spec)
        aggregates.build_aggregate_types(spec)
        build_mutation_inputs(spec, graph)
        bulk.build_bulk_types(spec, graph)
    types.build_generic_unions(graph)
    handwritten.publish_model_types(graph)

    root: list[RootField] = [*auth_fields(graph)]
    for spec in graph:
        root.extend(model_query_fields(spec))
        root.extend(aggregates.aggregate_fields(spec))
        root.extend(actions.action_fields(spec))
        root.extend(model_mutation_fields(spec, graph))
        root.extend(bulk.model_bulk_fields(spec, graph))
    for contributor in _contributors:
        root.extend(contributor(graph))

    by_operation: dict[Operation, dict[str, RootField]] = {
        "query": {}, "mutation": {}, "subscription": {}
    }
    for root_field in root:
        fields_of_operation = by_operation[root_field.operation]
        if root_field.name in fields_of_operation:
            raise type_factory.NameTaken(
                f"the root field {root_field.operation}.{root_field.name} is generated twice; "
                "pin a type name with ModelConfig.type_name (docs/NAMING.md)")
        fields_of_operation[root_field.name] = root_field
    generated = set(vars(type_factory.generated_module()))
    own = registry.handwritten
    handwritten.check_types([*own["query"], *own["mutation"]], generated)
    handwritten.check_django_types([*own["query"], *own["mutation"]], graph)
    query = handwritten.merged_root(
        "Query", _root_type("Query", list(by_operation["query"].values())),
        own["query"], by_operation["query"])
    mutation = handwritten.merged_root(
        "Mutation", _root_type("Mutation", list(by_operation["mutation"].values())),
        own["mutation"], by_operation["mutation"])
    schema = strawberry.Schema(
        query=query,  # type: ignore[arg-type]
        mutation=mutation,
        subscription=_root_type("Subscription", list(by_operation["subscription"].values())),
        config=StrawberryConfig(auto_camel_case=False,
                                scalar_map={**scalars.SCALAR_MAP,  # type: ignore[dict-item]
                                            uploads.Upload: uploads.UPLOAD_SCALAR}),
    )
    handwritten.guard_results(schema._schema, graph, generated,
                              {op: set(fields) for op, fields in by_operation.items()})
    return BuiltSchema(graph, schema, by_operation, time.perf_counter() - started)


_lock = threading.Lock()
_built: BuiltSchema | None = None


def get_schema() -> BuiltSchema:
    """The schema of this process, built on first use."""
    global _built
    if _built is None:
        with _lock:
            if _built is None:
                _built = build_schema()
    return _built


def reset_schema() -> None:
    """Forget the schema (tests that change the registry or settings call this)."""
    global _built
    with _lock:
        _built = None
