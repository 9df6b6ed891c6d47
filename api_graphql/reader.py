"""The reader: turns a selection tree into response data with a fixed number of queries.

One query reads a list and everything it can join: scalar columns, to-one relations
the user may read in full, and counts (as correlated subqueries). Every other
relation is one more query for all parents at once (to-many lists are paginated per
parent with a window function), so the query count never depends on the number of
rows. The result is the response itself: dicts keyed by response keys, in document
order. Every queryset starts from :meth:`Scope.readable`, so no path reads a row the
user may not see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber

from api_graphql import shapes
from api_graphql.computed import ComputedSpec, Instances, annotation_subquery, evaluate
from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.filters import FilterCompiler
from api_graphql.footprint import stream_label
from api_graphql.model_graph import FieldSpec, ModelGraph, ModelSpec, RelationSpec
from api_graphql.ordering import compile_ordering
from api_graphql.pagination import (
    after_condition,
    connection_size,
    decode_cursor,
    encode_cursor,
    keyset_ordering,
    page_bounds,
)
from api_graphql.permissions import Scope
from api_graphql.scopes import apply_scopes
from api_graphql.selection import TYPENAME, FieldSelection
from api_graphql.signatures import call_arguments

PARENT = "_dgr_parent"
ROW_NUMBER = "_dgr_row"
COUNT_SUFFIX = "_count"
Children = dict[str, FieldSelection]
Row = tuple[Any, ...]
#: How a node gets one value: a plain column (its position in the row) or a function.
Producer = int | Callable[[Row], Any]


def wire_converter(field: FieldSpec) -> Callable[[Any], Any] | None:
    """How a column value becomes its JSON form (None: orjson writes it as it is)."""
    if field.enum is not None:
        names = field.enum.name_by_value
        if all(name == value for value, name in names.items()):
            return None
        return names.get
    return field.encode


def crosses_many(model: Any, q: Q) -> bool:
    """Whether a condition follows a to-many relation (and could repeat rows)."""
    children: list[Any] = list(q.children)
    for child in children:
        if isinstance(child, Q):
            if crosses_many(model, child):
                return True
            continue
        if not isinstance(child, tuple):
            continue
        current = model
        for part in child[0].split("__"):
            try:
                field = current._meta.get_field(part)
            except Exception:
                break
            if getattr(field, "many_to_many", False) or getattr(field, "one_to_many", False):
                return True
            if not getattr(field, "is_relation", False) or field.related_model is None:
                break
            current = field.related_model
    return False


def restrict(qs: QuerySet, q: Q) -> QuerySet:
    """``qs.filter(q)``, without repeating rows when ``q`` crosses a to-many relation."""
    if not q:
        return qs
    if crosses_many(qs.model, q):
        return qs.filter(pk__in=qs.model._default_manager.filter(q).values("pk"))
    return qs.filter(q)


def related_rows(relation: RelationSpec, target: ModelSpec, parent: Any,
                 lookup: str = "exact") -> QuerySet:
    """Rows of ``target`` whose ``remote_path`` matches ``parent`` by ``lookup`` (an
    OuterRef, or a list with "in"), with the content type of generic relations."""
    remote = relation.remote_path or ""
    qs = target.model._default_manager.filter(**{f"{remote}__{lookup}": parent})
    if relation.ct_attname:
        ct = ContentType.objects.get_for_model(
            relation.django_field.model,
            for_concrete_model=relation.django_field.for_concrete_model,
        )
        qs = qs.filter(**{relation.ct_attname: ct.pk})
    return qs


def count_subquery(relation: RelationSpec, target: ModelSpec, condition: Q,
                   outer: OuterRef) -> Coalesce:
    """How many rows of ``target`` matching ``condition`` the row at ``outer`` has
    through ``relation``: a correlated subquery, 0 when none."""
    counted = restrict(related_rows(relation, target, outer), condition)
    subquery = Subquery(counted.order_by().values(relation.remote_path or "")
                        .annotate(n=Count("pk", distinct=True)).values("n"),
                        output_field=IntegerField())
    return Coalesce(subquery, 0)


@dataclass
class Fetched:
    """The rows of one query (tuples, see ``index``) and the nodes built from them."""

    rows: list[Row]
    nodes: list[dict[str, Any]]
    index: dict[str, int]

    def keyed(self, column: str) -> dict[Any, dict[str, Any]]:
        position = self.index[column]
        return {row[position]: node for row, node in zip(self.rows, self.nodes, strict=True)}

    def grouped(self, column: str) -> dict[Any, list[dict[str, Any]]]:
        position = self.index[column]
        groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row, node in zip(self.rows, self.nodes, strict=True):
            groups[row[position]].append(node)
        return groups

    def column(self, name: str) -> list[Any]:
        position = self.index[name]
        return [row[position] for row in self.rows]


@dataclass
class Later:
    """A relation read after the main query, for all its rows at once: ``fetch`` gets
    the distinct keys of the rows and returns the value for each key."""

    key: Callable[[Row], Any]
    fetch: Callable[[list[Any]], dict[Any, Any]]
    default: Any
    found: dict[Any, Any] = field(default_factory=dict)

    def producer(self) -> Callable[[Row], Any]:
        key, found, default = self.key, self.found, self.default
        return lambda row: found.get(key(row), default)


class Query:
    """The columns, annotations and follow-up reads of one ``values_list`` query."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.positions: dict[str, int] = {}
        self.annotations: dict[str, Any] = {}
        self.later: list[Later] = []
        #: Model instances per joined prefix, for computed properties and methods.
        self.instances: dict[str, tuple[Instances, Later]] = {}
        #: (stream label, position of its primary key) of every model in the rows.
        self.levels: list[tuple[str, int]] = []

    def column(self, name: str) -> int:
        position = self.positions.get(name)
        if position is None:
            position = self.positions[name] = len(self.columns)
            self.columns.append(name)
        return position

    def annotate(self, expression: Any) -> int:
        name = f"_dgr_a{len(self.annotations)}"
        self.annotations[name] = expression
        return self.column(name)


def _node_builder(keys: list[str], producers: list[Producer]) -> Callable[[Row], dict[str, Any]]:
    """Build one response dict per row; plain columns take the C-speed path."""
    if not producers:
        return lambda row: {}
    if all(isinstance(p, int) for p in producers):
        if len(producers) == 1:
            (key,), (position,) = keys, producers
            return lambda row: {key: row[position]}  # type: ignore[index]
        getter = itemgetter(*producers)
        return lambda row: dict(zip(keys, getter(row), strict=True))
    functions = [itemgetter(p) if isinstance(p, int) else p for p in producers]
    return lambda row: dict(zip(keys, [produce(row) for produce in functions], strict=True))


class Reader:
    """Reads the exposed models for one user (one request, or one subscription group)."""

    def __init__(self, graph: ModelGraph, scope: Scope) -> None:
        self.graph = graph
        self.scope = scope
        #: When set, the primary keys (as text) of every row read, by stream label:
        #: what the result cache needs to tell which changes touch an answer.
        self.seen: dict[str, set[str]] | None = None

    def watch(self, spec: ModelSpec, keys: Iterable[Any]) -> None:
        if self.seen is not None:
            self.seen.setdefault(stream_label(spec), set()).update(
                str(key) for key in keys if key is not None)

    # -- root fields -------------------------------------------------------------
    def page(self, spec: ModelSpec, selection: FieldSelection) -> list[dict[str, Any]]:
        qs = self.filtered(spec, selection.args)
        offset, limit = page_bounds(selection.args)
        ordering = compile_ordering(self.graph, self.scope, spec, selection.args.get("ordering"))
        qs = qs.order_by(*ordering)[offset : offset + limit]
        return self.nodes(spec, qs, selection.children or {}).nodes

    def get(self, spec: ModelSpec, selection: FieldSelection) -> dict[str, Any] | None:
        return self.node(spec, selection.args["pk"], selection.children or {}, strict=True)

    def count(self, spec: ModelSpec, selection: FieldSelection) -> int:
        return self.filtered(spec, selection.args).count()

    def node(self, spec: ModelSpec, pk: Any, children: Children,
             strict: bool = False) -> dict[str, Any] | None:
        """One object by primary key, or None when it is missing or not readable."""
        qs = self.scope.readable(spec)
        if qs is None:
            if strict:
                raise PermissionDenied(f"You do not have permission to view {spec.type_name}.")
            return None
        try:
            key = spec.pk.django_field.to_python(pk)
        except Exception:
            raise GraphQLUserError(f"Invalid primary key for {spec.type_name}: {pk!r}") from None
        self.watch(spec, [key])  # a row that appears, or becomes readable, changes the answer
        found = self.nodes(spec, qs.filter(pk=key)[:1], children).nodes
        return found[0] if found else None

    def connection(self, spec: ModelSpec, selection: FieldSelection) -> dict[str, Any]:
        args = selection.args
        qs = self.filtered(spec, args)
        size = connection_size(args)
        ordering = keyset_ordering(
            compile_ordering(self.graph, self.scope, spec, args.get("ordering"))
        )
        keys = {f"_dgr_k{i}": order.expression for i, order in enumerate(ordering)}
        page = qs.annotate(**keys).order_by(*ordering)
        after = args.get("after")
        if after:
            page = page.filter(after_condition(ordering, decode_cursor(after, len(ordering))))
        children = selection.children or {}
        node_children: Children = {}
        for edge in children_named(children, "edges"):
            for node in children_named(edge.children or {}, "node"):
                node_children.update(node.children or {})
        fetched = self.nodes(spec, page[: size + 1], node_children, extra=list(keys))
        has_next = len(fetched.rows) > size
        positions = [fetched.index[key] for key in keys]
        cursors = [encode_cursor([row[p] for p in positions]) for row in fetched.rows[:size]]
        nodes = fetched.nodes[:size]
        result: dict[str, Any] = {}
        for key, child in children.items():
            if child.name == "edges":
                result[key] = [_edge(child.children or {}, cursor, node, spec.type_name)
                               for cursor, node in zip(cursors, nodes, strict=True)]
            elif child.name == "page_info":
                info = {
                    "has_next_page": has_next,
                    "has_previous_page": bool(after),
                    "start_cursor": cursors[0] if cursors else None,
                    "end_cursor": cursors[-1] if cursors else None,
                    TYPENAME: "PageInfo",
                }
                result[key] = {k: info[c.name] for k, c in (child.children or {}).items()}
            elif child.name == "total_count":
                result[key] = qs.count()
            elif child.name == TYPENAME:
                result[key] = f"{spec.type_name}Connection"
        return result

    def filtered(self, spec: ModelSpec, args: dict[str, Any],
                 base: QuerySet | None = None) -> QuerySet:
        if args.get("scopes"):
            if not self.scope.can_read(spec):
                raise PermissionDenied(f"You do not have permission to view {spec.type_name}.")
            base = apply_scopes(spec, args["scopes"], self.scope)
        qs = self.scope.readable(spec, base)
        if qs is None:
            raise PermissionDenied(f"You do not have permission to view {spec.type_name}.")
        compiled = FilterCompiler(self.graph, self.scope).compile(spec, args.get("filters"))
        return restrict(qs, compiled.q)

    # -- one query ------------------------------------------------------------------
    def nodes(self, spec: ModelSpec, qs: QuerySet, children: Children,
              extra: Iterable[str] = ()) -> Fetched:
        """The nodes for every row of ``qs`` with every relation below them resolved.
        ``extra`` columns (annotations of ``qs``) come back in the rows."""
        query = Query()
        build = self._level(spec, children, "", query)
        for name in extra:
            query.column(name)
        if query.annotations:
            qs = qs.annotate(**query.annotations)
        if ROW_NUMBER in qs.query.annotations:
            rows = _windowed_rows(qs, query.columns)
        else:
            rows = list(qs.values_list(*query.columns))
        if self.seen is not None:
            for label, position in query.levels:
                self.seen.setdefault(label, set()).update(
                    str(row[position]) for row in rows if row[position] is not None)
        if rows:
            for later in query.later:
                keys = {later.key(row) for row in rows} - {None}
                if keys:
                    later.found.update(later.fetch(list(keys)))
        return Fetched(rows, [build(row) for row in rows], query.positions)

    def _level(self, spec: ModelSpec, children: Children, prefix: str,
               query: Query) -> Callable[[Row], dict[str, Any]]:
        """Plan the columns of one model in ``query`` (joined under ``prefix``)."""
        query.levels.append((stream_label(spec), query.column(prefix + spec.pk.attname)))
        keys: list[str] = []
        producers: list[Producer] = []
        for key, child in children.items():
            producer = self._producer(spec, child, prefix, query)
            if producer is not None:
                keys.append(key)
                producers.append(producer)
        return _node_builder(keys, producers)

    def _producer(self, spec: ModelSpec, child: FieldSelection, prefix: str,
                  query: Query) -> Producer | None:
        name = child.name
        if name == TYPENAME:
            type_name = spec.type_name
            return lambda row: type_name
        if name in spec.fields:
            field = spec.fields[name]
            position = query.column(prefix + field.attname)
            if field.kind.shape is not None:
                return shapes.producer(field, child, position, prefix, query.column)
            convert = wire_converter(field)
            if convert is None:
                return position
            return lambda row: None if row[position] is None else convert(row[position])
        if name in spec.relations:
            return self._relation(spec.relations[name], child, prefix, query)
        base = name[: -len(COUNT_SUFFIX)]
        if name.endswith(COUNT_SUFFIX) and base in spec.relations:
            return self._count(spec.relations[base], child, prefix, query)
        if name in spec.computed:
            return self._computed(spec, spec.computed[name], child, prefix, query)
        return None

    def _computed(self, spec: ModelSpec, computed: ComputedSpec, child: FieldSelection,
                  prefix: str, query: Query) -> Producer:
        if computed.is_sql:
            position = query.annotate(annotation_subquery(spec, computed, prefix))
            to_wire = computed.type.to_wire
            return lambda row: to_wire(row[position])
        if prefix not in query.instances:
            instances = Instances(spec)
            later = Later(itemgetter(query.column(prefix + spec.pk.attname)), instances.fetch,
                          None)
            query.instances[prefix] = (instances, later)
            query.later.append(later)
        instances, later = query.instances[prefix]
        instances.want(computed)
        kwargs = call_arguments(computed.arguments, child.args, self.scope,
                                f"{spec.type_name}.{computed.name}")
        instance_of = later.producer()
        return lambda row: evaluate(spec, computed, instance_of(row), kwargs)

    # -- relations ---------------------------------------------------------------
    def _relation(self, relation: RelationSpec, child: FieldSelection, prefix: str,
                  query: Query) -> Producer:
        children = child.children or {}
        if relation.kind == "generic":
            return self._generic(relation, child, prefix, query)
        target = self.graph.specs[relation.target]
        rule = self.scope.read_rule(target)
        if rule is False:
            empty: Any = [] if relation.many else None
            return lambda row: empty
        if not relation.many and rule is True:
            # Join it: the target's columns come back in this very row.
            sub_prefix = f"{prefix}{relation.query_name}__"
            build = self._level(target, children, sub_prefix, query)
            target_pk = query.column(sub_prefix + target.pk.attname)
            return lambda row: None if row[target_pk] is None else build(row)
        if relation.kind == "forward":
            local = query.column(prefix + (relation.local_attname or ""))

            def fetch_forward(ids: list[Any]) -> dict[Any, Any]:
                readable = self.scope.readable(target)
                assert readable is not None
                key = relation.target_key
                if key == target.pk.attname:
                    self.watch(target, ids)  # asked for, even when not readable
                return self.nodes(target, readable.filter(**{f"{key}__in": ids}), children,
                                  extra=[key]).keyed(key)

            later = Later(itemgetter(local), fetch_forward, None)
        elif not relation.many:
            def fetch_one(parents: list[Any]) -> dict[Any, Any]:
                base = self._children_of(relation, target, parents)
                return {} if base is None else self.nodes(
                    target, base, children, extra=[PARENT]).keyed(PARENT)

            later = Later(_parent_key(relation, query, prefix), fetch_one, None)
        else:
            def fetch_many(parents: list[Any]) -> dict[Any, Any]:
                return self._many(relation, target, child, parents)

            later = Later(_parent_key(relation, query, prefix), fetch_many, [])
        query.later.append(later)
        return later.producer()

    def _many(self, relation: RelationSpec, target: ModelSpec, child: FieldSelection,
              parents: list[Any]) -> dict[Any, list[dict[str, Any]]]:
        base = self._children_of(relation, target, parents)
        if base is None:
            return {}
        args = child.args
        qs = restrict(base, FilterCompiler(self.graph, self.scope).compile(
            target, args.get("filters")).q)
        offset, limit = page_bounds(args)
        ordering = compile_ordering(self.graph, self.scope, target, args.get("ordering"))
        if len(parents) == 1:
            qs = qs.order_by(*ordering)[offset : offset + limit]
        else:
            numbered = Window(RowNumber(), partition_by=[F(PARENT)], order_by=ordering)
            qs = qs.annotate(**{ROW_NUMBER: numbered}).filter(
                **{f"{ROW_NUMBER}__gt": offset, f"{ROW_NUMBER}__lte": offset + limit}
            ).order_by(*ordering)
        return self.nodes(target, qs, child.children or {}, extra=[PARENT]).grouped(PARENT)

    def _children_of(self, relation: RelationSpec, target: ModelSpec,
                     parents: list[Any]) -> QuerySet | None:
        """Readable rows of ``target`` related to ``parents``, each with its parent key."""
        rule = self.scope.read_rule(target)
        if rule is False:
            return None
        qs = related_rows(relation, target, parents, "in").annotate(
            **{PARENT: F(relation.remote_path or "")})
        return qs if rule is True else restrict(qs, rule)

    def _count(self, relation: RelationSpec, child: FieldSelection, prefix: str,
               query: Query) -> Producer:
        target = self.graph.specs[relation.target]
        rule = self.scope.read_rule(target)
        if rule is False:
            return lambda row: None
        condition = FilterCompiler(self.graph, self.scope).compile(
            target, child.args.get("filters")).q
        if rule is not True:
            condition &= rule
        if not prefix and relation.key_on_remote is None:
            # A correlated subquery: the count comes back with the row itself. Not for
            # a key spelled differently on the other side (a text object id): SQL's
            # cast of a UUID is not Python's str on every database (SQLite: no dashes).
            return query.annotate(count_subquery(relation, target, condition,
                                                 OuterRef(relation.local_key)))

        def fetch_counts(parents: list[Any]) -> dict[Any, Any]:
            base = self._children_of(relation, target, parents)
            assert base is not None
            counted = restrict(base, condition).order_by().values(PARENT)
            return {e[PARENT]: e["n"] for e in counted.annotate(n=Count("pk", distinct=True))}

        later = Later(_parent_key(relation, query, prefix), fetch_counts, 0)
        query.later.append(later)
        return later.producer()

    def _generic(self, relation: RelationSpec, child: FieldSelection, prefix: str,
                 query: Query) -> Producer:
        """A GenericForeignKey: the union member of whatever model each row points at."""
        ct_column = query.column(prefix + (relation.ct_attname or ""))
        fk_column = query.column(prefix + (relation.fk_attname or ""))

        def key(row: Row) -> tuple[Any, str] | None:
            if row[ct_column] is None or row[fk_column] is None:
                return None
            return (row[ct_column], str(row[fk_column]))

        def fetch(keys: list[tuple[Any, str]]) -> dict[Any, Any]:
            wanted: dict[Any, list[str]] = defaultdict(list)
            for ct_id, pk in keys:
                wanted[ct_id].append(pk)
            found: dict[Any, Any] = {}
            for ct_id, ids in wanted.items():
                model = ContentType.objects.get_for_id(ct_id).model_class()
                target = self.graph.get(model) if model is not None else None
                readable = self.scope.readable(target) if target is not None else None
                if target is None or readable is None:
                    continue
                keys_of_target = _as_keys(target, ids)
                if not keys_of_target:
                    continue
                children = child.variants.get(target.type_name, {})
                fetched = self.nodes(target, readable.filter(pk__in=keys_of_target), children)
                for pk, node in fetched.keyed(target.pk.attname).items():
                    found[(ct_id, str(pk))] = node
            return found

        later = Later(key, fetch, None)
        query.later.append(later)
        return later.producer()


def _as_keys(spec: ModelSpec, ids: list[str]) -> list[Any]:
    """The object ids of generic foreign keys that can be keys of ``spec`` (an id of
    another type points at no row, as the ORM's GenericForeignKey finds none)."""
    to_python = spec.model._meta.pk.to_python
    keys = []
    for raw in ids:
        try:
            keys.append(to_python(raw))
        except (ValidationError, ValueError, TypeError):
            continue
    return keys


def _windowed_rows(qs: QuerySet, columns: list[str]) -> list[Row]:
    """The rows of a query filtered on a window function, one value per column.

    Django runs such a filter by wrapping the query, and the wrapper keeps one column
    per distinct expression: a column repeating another (the key back to the parent,
    a joined key) vanished and shifted the rest (an IndexError). Each expression is
    selected once here and the repeats are put back into every row.
    """
    query = qs.values_list(*columns).query
    expressions = {**dict(zip(query.values_select, query.select, strict=True)),
                   **query.annotation_select}
    first: dict[Any, int] = {}
    kept: list[str] = []
    positions: list[int] = []
    for name in columns:
        position = first.setdefault(expressions[name], len(kept))
        if position == len(kept):
            kept.append(name)
        positions.append(position)
    rows: list[Row] = list(qs.values_list(*kept))
    if len(kept) == len(columns):
        return rows
    spread = itemgetter(*positions)
    return [spread(row) for row in rows]  # len(columns) > 1 here: tuples


def _parent_key(relation: RelationSpec, query: Query, prefix: str) -> Callable[[Row], Any]:
    """A row's key as the other side of ``relation`` stores it (its ``PARENT``)."""
    position = query.column(prefix + relation.local_key)
    convert = relation.key_on_remote
    if convert is None:
        return itemgetter(position)
    return lambda row: None if row[position] is None else convert(row[position])


def children_named(children: Children, name: str) -> list[FieldSelection]:
    return [child for child in children.values() if child.name == name]


def _edge(children: Children, cursor: str, node: dict[str, Any],
          type_name: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, child in children.items():
        if child.name == "cursor":
            result[key] = cursor
        elif child.name == "node":
            result[key] = {k: node[k] for k in (child.children or {}) if k in node}
        elif child.name == TYPENAME:
            result[key] = f"{type_name}Edge"
    return result
