"""The reader: turns a selection tree into rows with a fixed number of queries.

Each level of the tree is one ``values()`` query; every relation below it is one
more query for all parents at once (to-many lists are paginated per parent with a
window function), so the query count never grows with the number of rows. The
result is already the response: dicts keyed by response keys, values in wire form.
Every queryset starts from :meth:`Scope.readable`, so no path reads a row the user
may not see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.filters import FilterCompiler
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
from api_graphql.selection import TYPENAME, FieldSelection

PARENT = "_dgr_parent"
ROW_NUMBER = "_dgr_row"
COUNT_SUFFIX = "_count"
Children = dict[str, FieldSelection]


def wire_converter(field: FieldSpec) -> Callable[[Any], Any] | None:
    """How a value from ``values()`` becomes its JSON form (None: unchanged)."""
    if field.enum is not None:
        return field.enum.name_by_value.get
    return field.kind.to_wire


def crosses_many(model: Any, q: Q) -> bool:
    """Whether a condition follows a to-many relation (and could repeat rows)."""
    children: list[Any] = list(q.children)
    for child in children:
        if isinstance(child, Q):
            if crosses_many(model, child):
                return True
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


class Reader:
    """Reads the exposed models for one user (one request, or one subscription group)."""

    def __init__(self, graph: ModelGraph, scope: Scope) -> None:
        self.graph = graph
        self.scope = scope

    # -- root fields -------------------------------------------------------------
    def page(self, spec: ModelSpec, selection: FieldSelection) -> list[dict[str, Any]]:
        qs = self.filtered(spec, selection.args)
        offset, limit = page_bounds(selection.args)
        ordering = compile_ordering(self.graph, self.scope, spec, selection.args.get("ordering"))
        qs = qs.order_by(*ordering)[offset : offset + limit]
        return [node for _, node in self.nodes(spec, qs, selection.children or {})]

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
        found = self.nodes(spec, qs.filter(pk=key)[:1], children)
        return found[0][1] if found else None

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
        edges_sel = children_named(children, "edges")
        node_children: Children = {}
        for edge_sel in edges_sel:
            for node_sel in children_named(edge_sel.children or {}, "node"):
                node_children.update(node_sel.children or {})
        rows = self.nodes(spec, page[: size + 1], node_children, extra=list(keys))
        has_next = len(rows) > size
        rows = rows[:size]
        cursors = [encode_cursor([row[key] for key in keys]) for row, _ in rows]
        result: dict[str, Any] = {}
        for key, child in children.items():
            if child.name == "edges":
                result[key] = [
                    _edge(child.children or {}, cursor, node, spec.type_name)
                    for cursor, (_, node) in zip(cursors, rows, strict=True)
                ]
            elif child.name == "page_info":
                info = {
                    "has_next_page": has_next,
                    "has_previous_page": bool(after),
                    "start_cursor": cursors[0] if cursors else None,
                    "end_cursor": cursors[-1] if cursors else None,
                }
                result[key] = {
                    k: ("PageInfo" if c.name == TYPENAME else info[c.name])
                    for k, c in (child.children or {}).items()
                }
            elif child.name == "total_count":
                result[key] = qs.count()
            elif child.name == TYPENAME:
                result[key] = f"{spec.type_name}Connection"
        return result

    def filtered(self, spec: ModelSpec, args: dict[str, Any],
                 base: QuerySet | None = None) -> QuerySet:
        qs = self.scope.readable(spec, base)
        if qs is None:
            raise PermissionDenied(f"You do not have permission to view {spec.type_name}.")
        compiled = FilterCompiler(self.graph, self.scope).compile(spec, args.get("filters"))
        return restrict(qs, compiled.q)

    # -- one level of the tree ---------------------------------------------------
    def nodes(self, spec: ModelSpec, qs: QuerySet, children: Children,
              extra: Iterable[str] = ()) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(row, node) for every row of ``qs``, with every relation below resolved."""
        pk_name = spec.pk.attname
        columns = {pk_name}
        resolvers: list[tuple[str, Callable[[dict[str, Any]], Any]]] = []
        deferred: list[tuple[str, FieldSelection, RelationSpec, bool]] = []
        for key, child in children.items():
            name = child.name
            if name == TYPENAME:
                resolvers.append((key, _constant(spec.type_name)))
            elif name in spec.fields:
                field = spec.fields[name]
                columns.add(field.attname)
                resolvers.append((key, self._scalar(field, child)))
            elif name in spec.relations:
                relation = spec.relations[name]
                if relation.local_attname:
                    columns.add(relation.local_attname)
                if relation.ct_attname and relation.kind == "generic":
                    columns.update((relation.ct_attname, relation.fk_attname or ""))
                deferred.append((key, child, relation, False))
            elif name.endswith(COUNT_SUFFIX) and name[: -len(COUNT_SUFFIX)] in spec.relations:
                deferred.append((key, child, spec.relations[name[: -len(COUNT_SUFFIX)]], True))
        rows = list(qs.values(*columns, *extra))
        if not rows:
            return []
        for key, child, relation, is_count in deferred:
            values = (
                self._counts(spec, relation, child, rows)
                if is_count
                else self._relation(spec, relation, child, rows)
            )
            resolvers.append((key, values))
        order = list(children)
        resolvers.sort(key=lambda item: order.index(item[0]))
        return [(row, {key: resolve(row) for key, resolve in resolvers}) for row in rows]

    @staticmethod
    def _scalar(field: FieldSpec, child: FieldSelection) -> Callable[[dict[str, Any]], Any]:
        attname = field.attname
        if field.is_file:
            storage = field.django_field.storage  # type: ignore[attr-defined]
            sub = child.children or {}

            def file_value(row: dict[str, Any]) -> dict[str, Any] | None:
                name = row[attname]
                if not name:
                    return None
                result: dict[str, Any] = {}
                for key, part in sub.items():
                    if part.name == "name":
                        result[key] = name
                    elif part.name == "url":
                        try:
                            result[key] = storage.url(name)
                        except Exception:
                            result[key] = None
                    else:
                        result[key] = "File"
                return result

            return file_value
        convert = wire_converter(field)
        if convert is None:
            return lambda row: row[attname]
        return lambda row: None if row[attname] is None else convert(row[attname])

    # -- relations ---------------------------------------------------------------
    def _relation(self, spec: ModelSpec, relation: RelationSpec, child: FieldSelection,
                  rows: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
        if relation.kind == "generic":
            return self._generic(relation, child, rows)
        target = self.graph.specs[relation.target]
        children = child.children or {}
        pk_name = spec.pk.attname
        if relation.kind == "forward":
            local = relation.local_attname or ""
            ids = {row[local] for row in rows if row[local] is not None}
            readable = self.scope.readable(target)
            if readable is None or not ids:
                return lambda row: None
            found = {r[target.pk.attname]: n
                     for r, n in self.nodes(target, readable.filter(pk__in=ids), children)}
            return lambda row: found.get(row[local])
        parents = [row[pk_name] for row in rows]
        base = self._children_of(relation, target, parents)
        if base is None:
            empty: Any = [] if relation.many else None
            return lambda row: empty
        if not relation.many:
            found = {r[PARENT]: n for r, n in self.nodes(target, base, children, extra=[PARENT])}
            return lambda row: found.get(row[pk_name])
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
        grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for r, n in self.nodes(target, qs, children, extra=[PARENT]):
            grouped[r[PARENT]].append(n)
        return lambda row: grouped.get(row[pk_name], [])

    def _children_of(self, relation: RelationSpec, target: ModelSpec,
                     parents: list[Any]) -> QuerySet | None:
        """Rows of ``target`` related to ``parents``, each with its parent key."""
        readable = self.scope.readable(target)
        if readable is None:
            return None
        remote = relation.remote_path or ""
        manager = target.model._default_manager
        qs = manager.filter(**{f"{remote}__in": parents})
        if relation.ct_attname:
            parent_model = relation.django_field.model
            ct = ContentType.objects.get_for_model(
                parent_model, for_concrete_model=relation.django_field.for_concrete_model
            )
            qs = qs.filter(**{relation.ct_attname: ct.pk})
        qs = qs.annotate(**{PARENT: F(remote)})
        rule = self.scope.read_rule(target)
        return qs if rule is True else restrict(qs, rule)  # type: ignore[arg-type]

    def _counts(self, spec: ModelSpec, relation: RelationSpec, child: FieldSelection,
                rows: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
        target = self.graph.specs[relation.target]
        pk_name = spec.pk.attname
        base = self._children_of(relation, target, [row[pk_name] for row in rows])
        if base is None:
            return lambda row: None
        qs = restrict(base, FilterCompiler(self.graph, self.scope).compile(
            target, child.args.get("filters")).q)
        counts = {
            entry[PARENT]: entry["n"]
            for entry in qs.order_by().values(PARENT).annotate(n=Count("pk", distinct=True))
        }
        return lambda row: counts.get(row[pk_name], 0)

    def _generic(self, relation: RelationSpec, child: FieldSelection,
                 rows: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
        ct_col, fk_col = relation.ct_attname or "", relation.fk_attname or ""
        wanted: dict[int, set[Any]] = defaultdict(set)
        for row in rows:
            if row[ct_col] is not None and row[fk_col] is not None:
                wanted[row[ct_col]].add(row[fk_col])
        found: dict[tuple[int, str], dict[str, Any]] = {}
        for ct_id, ids in wanted.items():
            model = ContentType.objects.get_for_id(ct_id).model_class()
            target = self.graph.get(model) if model is not None else None
            readable = self.scope.readable(target) if target is not None else None
            if target is None or readable is None:
                continue
            children = child.variants.get(target.type_name, {})
            for r, n in self.nodes(target, readable.filter(pk__in=ids), children):
                found[(ct_id, str(r[target.pk.attname]))] = n
        return lambda row: found.get((row[ct_col], str(row[fk_col])))


def _constant(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda row: value


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
