"""The client manifest: the Django facts a generated client needs and the SDL loses.

The SDL says ``title: StringFilter``; it does not say that ``title`` is a
``CharField``, that ``article_set`` is the reverse accessor of ``Article.author``,
or which field of the target filter leads back (what a relation manager such as
``user.article_set.all()`` filters on). Everything here is read from the same
:class:`ModelGraph` the schema is built from, and every name is checked against
the built schema, so the manifest can only name fields that exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db.models import F, OrderBy
from django.db.models.fields.related import ForeignObjectRel
from graphql import GraphQLSchema
from graphql.utilities import introspection_from_schema

from api_graphql import bulk, field_types, filters
from api_graphql.aggregates import aggregate_manifest
from api_graphql.computed import ComputedSpec
from api_graphql.model_graph import FieldSpec, ModelGraph, ModelSpec, RelationSpec
from api_graphql.mutations import create_input_name, payload_name, update_input_name
from api_graphql.ordering import DIRECTIONS
from api_graphql.schema import BuiltSchema
from api_graphql.scopes import scope_arguments_name, scope_input_name
from api_graphql.signatures import manifest_arguments
from api_graphql.url_functions import url_manifest

MANIFEST_VERSION = 1
#: Lookups whose operand is not the column's own scalar.
OPERANDS = {"in": "list", "range": "list", "isnull": "Boolean", "has_key": "String",
            **{lookup: "String" for lookup in field_types.TEXT}}
AUTH_FIELDS = ("me", "csrf_token", "login", "logout", "token_auth", "refresh_token")
#: Files are filtered through StringFilter (by stored name); see filters.build_model_filter.
ENUM_LOOKUPS = ("exact", "in", "isnull")


def _root_fields(schema: GraphQLSchema, operation: str) -> dict[str, Any]:
    root = getattr(schema, f"{operation}_type")
    return dict(root.fields) if root is not None else {}


def _lookups(field: FieldSpec) -> tuple[list[str], dict[str, str]]:
    """The lookups and transforms the field's filter input offers (as filters.py builds it)."""
    if field.enum is not None:
        return list(ENUM_LOOKUPS), {}
    kind = field_types.STRING if field.is_file else field.kind
    return list(kind.lookups), dict(kind.transforms)


def _field(spec: ModelSpec, field: FieldSpec) -> dict[str, Any]:
    django_field = field.django_field
    lookups, transforms = _lookups(field)
    if field.kind.shape is not None:
        graphql_type = field.kind.shape
    elif field.enum is not None:
        graphql_type = field.enum.type_name
    elif django_field.primary_key:
        graphql_type = "ID"
    else:
        graphql_type = field.kind.name
    relation = next((r.name for r in spec.relations.values()
                     if r.kind == "forward" and r.local_attname == field.attname), None)
    return {
        "django_field": type(django_field).__name__,
        "internal_type": django_field.get_internal_type(),
        "graphql_type": graphql_type,
        "scalar": field.kind.name,
        "nullable": field.nullable,
        "primary_key": bool(django_field.primary_key),
        "unique": bool(django_field.unique),
        "editable": field.editable,
        "max_length": getattr(django_field, "max_length", None),
        "relation": relation,
        "enum": None if field.enum is None else {
            "type": field.enum.type_name,
            # GraphQL member name -> the value Django stores.
            "values": {name: value for name, value in field.enum.value_by_name.items()},
        },
        "lookups": lookups,
        "transforms": transforms,
        "orderable": field.kind.name not in {"JSON", "Base64"},
    }


def _reverse_name(relation: RelationSpec, source: ModelSpec,
                  target: ModelSpec | None) -> str | None:
    """The relation on the target that leads back here (its filter key), if exposed."""
    if target is None:
        return None
    django_field = relation.django_field
    if isinstance(django_field, ForeignObjectRel):
        name = django_field.field.name
    elif relation.kind in ("forward", "m2m") and django_field is not None:
        name = django_field.remote_field.get_accessor_name()
    else:
        return None
    back = target.relations.get(name) if name else None
    if back is None or back.target != source.label:
        return None
    return back.name


def _relation(relation: RelationSpec, source: ModelSpec, graph: ModelGraph) -> dict[str, Any]:
    target = graph.specs.get(relation.target)
    return {
        "kind": relation.kind,
        "many": relation.many,
        "target": target.label if target else None,
        "target_type": target.type_name if target else None,
        "django_field": type(relation.django_field).__name__,
        "query_name": relation.query_name,
        "attname": relation.local_attname,
        "reverse": _reverse_name(relation, source, target),
        "filterable": relation.kind != "generic",
        "orderable": not relation.many and relation.kind != "generic",
    }


def _latest_by(spec: ModelSpec) -> list[str]:
    latest_by = spec.model._meta.get_latest_by
    if latest_by is None:
        return []
    return [latest_by] if isinstance(latest_by, str) else list(latest_by)


def _ordering(spec: ModelSpec) -> list[str] | None:
    """Meta.ordering as order keys (``-created_at``); None when it holds an expression
    no key names (the client can then neither reverse it nor keep rows in it)."""
    keys: list[str] = []
    for entry in spec.model._meta.ordering or ():
        if isinstance(entry, str):
            if entry.lstrip("-?"):
                keys.append(entry)
            continue
        # F("name").desc() names a key; nulls placement or any other expression does not.
        if not isinstance(entry, OrderBy) or entry.nulls_first or entry.nulls_last:
            return None
        expression = entry.expression
        name = getattr(expression, "name", None) if isinstance(expression, F) else None
        if not isinstance(name, str):
            return None
        keys.append(("-" if entry.descending else "") + name)
    return keys


def _model(spec: ModelSpec, graph: ModelGraph, built: BuiltSchema) -> dict[str, Any]:
    queries = _root_fields(built.graphql_schema, "query")
    mutations = _root_fields(built.graphql_schema, "mutation")
    subscriptions = _root_fields(built.graphql_schema, "subscription")
    name = spec.root_name
    model_mutations: dict[str, Any] = {}
    for action, input_name in (("create", create_input_name(spec)),
                               ("update", update_input_name(spec)), ("delete", None)):
        field_name = f"{action}_{name}"
        if field_name in mutations:
            model_mutations[action] = {"field": field_name, "input": input_name}
    bulk_inputs = {"bulk_update": update_input_name(spec), "bulk_delete": None,
                   "bulk_create": create_input_name(spec),
                   "get_or_create": bulk.lookup_input_name(spec),
                   "update_or_create": bulk.lookup_input_name(spec)}
    for action, field_name in bulk.bulk_root_names(spec).items():
        if field_name in mutations:
            model_mutations[action] = {"field": field_name, "input": bulk_inputs[action]}
    change = subscriptions.get(f"{name}_changes")
    return {
        "label": spec.label,
        "app_label": spec.model._meta.app_label,
        "object_name": spec.model._meta.object_name,
        "type_name": spec.type_name,
        "pk": spec.pk.name,
        # Meta.get_latest_by as a list of order keys (latest() / earliest() without fields).
        "get_latest_by": _latest_by(spec),
        # Meta.ordering: the order of an unordered queryset (last(), a live result's).
        "ordering": _ordering(spec),
        "queries": {
            role: field_name
            for role, field_name in (("get", name), ("list", f"{name}_list"),
                                     ("count", f"{name}_count"),
                                     ("connection", f"{name}_connection"))
            if field_name in queries
        },
        "filter_type": spec.filter_name,
        "order_type": spec.order_name,
        "payload_type": payload_name(spec) if model_mutations else None,
        "mutations": model_mutations,
        "subscription": None if change is None else {
            "field": f"{name}_changes",
            "type": str(change.type).rstrip("!"),
        },
        "fields": {f.name: _field(spec, f) for f in spec.fields.values()},
        "relations": {r.name: _relation(r, spec, graph) for r in spec.relations.values()},
        "computed": {c.name: _computed(c) for c in spec.computed.values()},
        "scopes": {s.name: {"arguments": manifest_arguments(s.arguments),
                            "input": scope_arguments_name(spec, s) if s.arguments else None}
                   for s in spec.scopes.values()},
        "scope_type": scope_input_name(spec) if spec.scopes else None,
        "aggregates": aggregate_manifest(spec),
        "actions": {a.name: {"field": f"{spec.root_name}_{a.name}",
                             "arguments": manifest_arguments(a.arguments)}
                    for a in spec.actions.values()},
    }


def _computed(computed: ComputedSpec) -> dict[str, Any]:
    """A property, method or annotation: its type, arguments, and whether it is SQL."""
    sql = computed.column is not None
    return {
        "kind": computed.kind,
        "graphql_type": computed.type.graphql_type,
        "scalar": computed.type.kind.name,
        "nullable": computed.type.nullable,
        "many": computed.type.many,
        "arguments": manifest_arguments(computed.arguments),
        "lookups": list(computed.type.kind.lookups) if sql else [],
        "transforms": dict(computed.type.kind.transforms) if sql else {},
        "filterable": sql,
        "orderable": sql and computed.type.kind.name not in {"JSON", "Base64"},
    }


def build_manifest(built: BuiltSchema) -> dict[str, Any]:
    """The manifest as a JSON-ready dict, in the graph's (stable) model order."""
    graph = built.graph
    roots = {op: _root_fields(built.graphql_schema, op)
             for op in ("query", "mutation", "subscription")}
    change_op = built.graphql_schema.get_type("ChangeOp")
    scalar_kinds = dict(field_types.BY_NAME)
    return {
        "version": MANIFEST_VERSION,
        "scalars": {
            name: {"lookups": list(kind.lookups), "transforms": dict(kind.transforms),
                   "filter_type": filters.scalar_filter_name(kind)}
            for name, kind in scalar_kinds.items()
        },
        "lookup_operands": OPERANDS,
        "ordering": list(DIRECTIONS),
        "auth": {name: name for name in AUTH_FIELDS
                 if name in roots["query"] or name in roots["mutation"]},
        "change_ops": list(getattr(change_op, "values", {}) or {}),
        "models": {spec.label: _model(spec, graph, built) for spec in graph},
        #: Root fields of hand-written classes (api_graphql.handwritten): the generator
        #: gives each a typed function (src/generated/operations.ts).
        "handwritten": {op: sorted(set(roots[op]) - set(built.root_fields[op]))
                        for op in ("query", "mutation")},
        "urls": url_manifest(),
    }


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def client_files(built: BuiltSchema) -> dict[str, str]:
    """File name -> content of everything a client generator reads."""
    return {
        "schema.graphql": built.sdl(),
        "schema.json": _dump(introspection_from_schema(built.graphql_schema)),
        "models.json": _dump(build_manifest(built)),
    }


def write_client_files(built: BuiltSchema, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in client_files(built).items():
        path = out / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
