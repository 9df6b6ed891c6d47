"""Aggregates and grouping: Django's ``aggregate()`` and ``values(...).annotate(...)``.

``article_aggregate(scopes, filters) { count  sum { id }  avg { title_length }
max { created_at }  count_distinct { author_id } }`` is one query:
``Article.objects.filter(<row rules> & <filters>).aggregate(...)``. The caller's row
rules apply *before* aggregating, so an aggregate never counts a row its caller may
not read; only exposed fields (and annotations) are offered, so an aggregate over a
hidden field is a GraphQL validation error. ``article_group_by(by: [author_id])``
groups the same way (``values("author_id").annotate(...)``, ordered by the keys, so
no other ordering joins the GROUP BY), one page of groups per call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, F, Max, Min, StdDev, Sum, Variance
from strawberry.types.unset import UNSET

from api_graphql import type_factory
from api_graphql.errors import GraphQLUserError
from api_graphql.pagination import page_bounds
from api_graphql.root_fields import RootField
from api_graphql.scopes import scope_argument
from api_graphql.selection import TYPENAME, FieldSelection
from api_graphql.type_factory import REQUIRED
from api_graphql.types import scalar_annotation

if TYPE_CHECKING:
    from api_graphql.context import RequestContext
    from api_graphql.model_graph import ModelSpec

NUMERIC = {"Int", "Float", "Decimal", "BigInt"}
UNORDERED = {"JSON", "Base64", "File", "Boolean"}
#: GraphQL function name -> (Django aggregate, which columns, result type rule).
FUNCTIONS: dict[str, tuple[Any, str, str]] = {
    "sum": (Sum, "numeric", "same"),
    "avg": (Avg, "numeric", "float"),
    "min": (Min, "ordered", "same"),
    "max": (Max, "ordered", "same"),
    "std_dev": (StdDev, "numeric", "float"),
    "variance": (Variance, "numeric", "float"),
    "count_distinct": (Count, "countable", "int"),
}


def aggregate_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}Aggregate"


def group_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}Group"


def _columns(spec: ModelSpec) -> dict[str, tuple[Any, Any]]:
    """name -> (expression, FieldSpec-like) of what may be aggregated: exposed columns
    (keys as their ``_id`` names) and annotations."""
    from api_graphql.computed import annotation_subquery

    result: dict[str, tuple[Any, Any]] = {}
    for field in spec.fields.values():
        if not field.is_file:
            result[field.name] = (F(field.attname), field)
    for computed in spec.computed.values():
        if computed.column is not None:
            result[computed.name] = (annotation_subquery(spec, computed, ""), computed.column)
    return result


def _fits(field: Any, which: str) -> bool:
    kind = field.kind.name
    if field.enum is not None:
        return which == "countable"
    if which == "numeric":
        return kind in NUMERIC and not field.django_field.primary_key and kind != "ID"
    if which == "ordered":
        return kind not in UNORDERED
    return kind not in {"JSON", "Base64"}


def _result_type(field: Any, rule: str) -> Any:
    if rule == "float":
        return float | None
    if rule == "int":
        return int
    annotation = scalar_annotation(field)
    return annotation if _nullable(annotation) else annotation | None


def _nullable(annotation: Any) -> bool:
    return type(None) in getattr(annotation, "__args__", ())


def build_aggregate_types(spec: ModelSpec) -> None:
    columns = _columns(spec)
    fields: dict[str, Any] = {"count": int}
    for function, (_, which, rule) in FUNCTIONS.items():
        members = {name: _result_type(field, rule) for name, (_, field) in columns.items()
                   if _fits(field, which)}
        if members:
            type_factory.object_type(f"{aggregate_name(spec)}{_pascal(function)}", members)
            fields[function] = type_factory.ref(f"{aggregate_name(spec)}{_pascal(function)}")
    type_factory.object_type(aggregate_name(spec), fields,
                             description=f"Aggregates over the {spec.type_name} rows you may read.")
    keys = {name: _key_type(columns[name][1]) for name in _group_keys(spec, columns)}
    type_factory.enum_type(f"{group_name(spec)}By", list(keys))
    type_factory.object_type(f"{group_name(spec)}Key", keys)
    type_factory.object_type(group_name(spec), {"key": type_factory.ref(f"{group_name(spec)}Key"),
                                                **fields})


def _group_keys(spec: ModelSpec, columns: dict[str, tuple[Any, Any]]) -> list[str]:
    """The columns a grouping may be keyed by: the model's own countable columns."""
    return [name for name, (_, field) in columns.items()
            if _fits(field, "countable") and name in spec.fields]


def aggregate_manifest(spec: ModelSpec) -> dict[str, Any]:
    """What a client may aggregate: the columns each kind of function takes, and the
    keys (and their enum) a grouping takes."""
    columns = _columns(spec)
    return {
        "field": f"{spec.root_name}_aggregate",
        "group_by": f"{spec.root_name}_group_by",
        "group_enum": f"{group_name(spec)}By",
        "group": _group_keys(spec, columns),
        **{which: [name for name, (_, field) in columns.items() if _fits(field, which)]
           for which in ("numeric", "ordered", "countable")},
    }


def _key_type(field: Any) -> Any:
    annotation = scalar_annotation(field)
    return annotation if _nullable(annotation) else annotation | None


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _plan(spec: ModelSpec, children: dict[str, FieldSelection]) -> tuple[dict[str, Any], list[Any]]:
    """The aggregate expressions of a selection, and how to read each response key."""
    columns = _columns(spec)
    expressions: dict[str, Any] = {}
    readers: list[Any] = []
    for key, child in children.items():
        if child.name == "count":
            expressions[f"a{len(expressions)}"] = Count("pk")
            readers.append((key, f"a{len(expressions) - 1}", None))
        elif child.name in FUNCTIONS:
            function, _, rule = FUNCTIONS[child.name]
            parts: list[tuple[str, str | None, Any]] = []
            for sub_key, sub in (child.children or {}).items():
                if sub.name == TYPENAME:
                    parts.append((sub_key, None, f"{aggregate_name(spec)}{_pascal(child.name)}"))
                    continue
                expression, field = columns[sub.name]
                alias = f"a{len(expressions)}"
                expressions[alias] = (function(expression, distinct=True)
                                      if child.name == "count_distinct" else function(expression))
                parts.append((sub_key, alias, (field, rule)))
            readers.append((key, None, parts))
        elif child.name == TYPENAME:
            readers.append((key, None, aggregate_name(spec)))
    return expressions, readers


def _value(value: Any, how: tuple[Any, str]) -> Any:
    field, rule = how
    if value is None:
        return None
    if rule == "float":
        return float(value)
    if rule == "int":
        return int(value)
    convert = field.kind.to_wire
    if field.enum is not None:
        return field.enum.name_by_value.get(value)
    return value if convert is None else convert(value)


def _read(row: dict[str, Any], readers: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, alias, parts in readers:
        if alias is not None:
            result[key] = row[alias]
        elif isinstance(parts, str):
            result[key] = parts
        else:
            result[key] = {sub_key: (how if sub_alias is None else _value(row[sub_alias], how))
                           for sub_key, sub_alias, how in parts}
    return result


def aggregate_fields(spec: ModelSpec) -> list[RootField]:
    filters = (type_factory.ref(spec.filter_name) | None, UNSET)
    scoped = scope_argument(spec)

    def aggregate(context: RequestContext, selection: FieldSelection) -> Any:
        qs = context.reader.filtered(spec, selection.args)
        expressions, readers = _plan(spec, selection.children or {})
        row = qs.order_by().aggregate(**expressions) if expressions else {}
        return _read(row, readers)

    def group_by(context: RequestContext, selection: FieldSelection) -> Any:
        by = [getattr(item, "value", item) for item in selection.args.get("by") or ()]
        if not by or len(set(by)) != len(by):
            raise GraphQLUserError("group_by needs one or more distinct fields in 'by'.")
        qs = context.reader.filtered(spec, selection.args)
        children = selection.children or {}
        expressions, readers = _plan(spec, {k: c for k, c in children.items() if c.name != "key"})
        attnames = {name: spec.fields[name].attname for name in by}
        offset, limit = page_bounds(selection.args)
        rows = (qs.order_by().values(*attnames.values()).annotate(**expressions)
                .order_by(*attnames.values())[offset: offset + limit])
        groups = []
        for row in rows:
            group = _read(row, readers)
            for key, child in children.items():
                if child.name == "key":
                    group[key] = {
                        sub_key: (f"{group_name(spec)}Key" if sub.name == TYPENAME
                                  else _key_value(spec, sub.name, row, attnames))
                        for sub_key, sub in (child.children or {}).items()}
                elif child.name == TYPENAME:
                    group[key] = group_name(spec)
            groups.append(group)
        return groups

    name = spec.root_name
    by_enum = type_factory.ref(f"{group_name(spec)}By")
    return [
        RootField(f"{name}_aggregate", "query", type_factory.ref(aggregate_name(spec)), aggregate,
                  {**scoped, "filters": filters},
                  f"Django's aggregate() over the {spec.type_name} rows you may read.", spec),
        RootField(f"{name}_group_by", "query",
                  type_factory.list_of(type_factory.ref(group_name(spec))), group_by,
                  {"by": (type_factory.list_of(by_enum), REQUIRED), **scoped, "filters": filters,
                   "offset": (int | None, UNSET), "limit": (int | None, UNSET)},
                  f"Django's values(*by).annotate(...) over the {spec.type_name} rows you may "
                  "read, ordered by the keys.", spec),
    ]


def _key_value(spec: ModelSpec, name: str, row: dict[str, Any],
               attnames: dict[str, str]) -> Any:
    if name not in attnames:
        return None
    field = spec.fields[name]
    return _value(row[attnames[name]], (field, "same"))
