"""Compile once: a root field of a read plan as one SQL statement, JSON built by the database.

The reader (:mod:`api_graphql.reader`) builds querysets on every request; Django
spends most of an uncached request building and compiling them. Here a root field
(``article(pk)``, ``article_list(...)``) of one plan and one permission scope
becomes one statement, kept with its parameters and run again as it is: the plan
fixes the variables, the scope fixes the row rules (two users share a statement
only when their rules are the same, the scope's key), so the SQL and its parameters
are the same for every request that reaches it. On PostgreSQL the statement writes
the answer as JSON (:mod:`api_graphql.sql_json`): nested objects joined or read by
correlated subqueries, lists and counts as subqueries, so Python neither builds
models nor encodes rows; it parses one text with orjson.

A root field with anything the database cannot write exactly as the Python path
does (a computed property, a file, money, a generic relation, a column of another
package, ...) is not compiled: it keeps the reader, and that verdict is cached too.
``API_GRAPHQL["COMPILED_READS"] = False`` turns the whole path off; the tests run
the same documents both ways and compare the bytes.

When the result cache records which rows an answer holds (``Reader.seen``), the
statement also writes each object's primary key under a key no GraphQL name can
spell, collected and removed here.

Relies on Django's query compiler (``Query.get_compiler().as_sql()``), so it is
used only with the Django versions it is tested with (``TESTED_DJANGO``); any other
runs the reader.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import django
import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, F, OrderBy, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast

from api_graphql import sql_json
from api_graphql.conf import graphql_settings
from api_graphql.errors import GraphQLUserError
from api_graphql.filters import FilterCompiler
from api_graphql.footprint import stream_label
from api_graphql.model_graph import ModelSpec, RelationSpec
from api_graphql.ordering import compile_ordering
from api_graphql.pagination import page_bounds
from api_graphql.reader import COUNT_SUFFIX, Reader, count_subquery, related_rows, restrict
from api_graphql.selection import TYPENAME, FieldSelection
from api_graphql.sql_json import SQL, JSONList, JSONOne, Unsupported

logger = logging.getLogger(__name__)
TESTED_DJANGO = {(5, 2)}
#: Where an object's primary key travels when the rows are recorded: "#" starts no
#: GraphQL name, so no response key can be spelled so.
PK_KEY = "#pk"
#: The prefix of a forward key asked for (recorded even when the row is not readable).
ASKED = "#asked:"
CACHE_SIZE = 2000
JSON_COLUMN = "_dgr_j"
ORDER_COLUMN = "_dgr_o"


@dataclass
class Level:
    """Where the recorded rows of one object level are, in the parsed answer."""

    label: str
    #: (response key, level) of nested objects and lists.
    children: list[tuple[str, Level]] = field(default_factory=list)
    #: (reserved key, stream label) of forward keys asked for.
    asked: list[tuple[str, str]] = field(default_factory=list)

    def collect(self, value: Any, seen: dict[str, set[str]]) -> None:
        """Move the reserved keys of ``value`` (an object, a list or None) into ``seen``."""
        nodes = value if isinstance(value, list) else [value]
        keys = seen.setdefault(self.label, set())
        for node in nodes:
            if node is None:
                continue
            keys.add(node.pop(PK_KEY))
            for reserved, label in self.asked:
                asked = node.pop(reserved)
                if asked is not None:
                    seen.setdefault(label, set()).add(asked)
            for key, child in self.children:
                child.collect(node[key], seen)


class Slot(Expression):
    """Where the primary key of ``get`` goes: one statement serves every key."""

    MARK = object()

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        return "%s", [self.MARK]


@dataclass(frozen=True)
class Statement:
    """One root field's SQL and parameters, or (``sql`` None) an answer known without
    the database (a filter no row can match)."""

    using: str
    sql: str | None
    params: tuple[Any, ...]
    many: bool
    #: With recorded rows: where they are.
    level: Level | None
    #: ``get``: the position of the key in ``params``, and the key's model (recorded).
    slot: int | None = None
    label: str | None = None

    def run(self, seen: dict[str, set[str]] | None, key: Any = None) -> Any:
        """The value; ``key``: the key of ``get``, as Python and as the database has it."""
        params = self.params
        if key is not None:
            if seen is not None and self.label is not None:
                # A row that appears, or becomes readable, changes the answer.
                seen.setdefault(self.label, set()).add(str(key[0]))
            if self.slot is not None:
                params = (*params[: self.slot], key[1], *params[self.slot + 1 :])
        if self.sql is None:
            return [] if self.many else None
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        value = orjson.loads(row[0]) if row is not None and row[0] is not None else None
        if value is None and self.many:
            value = []
        if self.level is not None and seen is not None:
            self.level.collect(value, seen)
        return value


def _ordered(qs: QuerySet, value: SQL, ordering: list[OrderBy], offset: int,
             limit: int) -> QuerySet:
    """One page of ``qs``: each row's json, then its ordering keys (sql_json.aggregate)."""
    keys = {f"{ORDER_COLUMN}{i}": order.expression for i, order in enumerate(ordering)}
    rows = qs.annotate(**{JSON_COLUMN: value}, **keys).order_by(*ordering)
    return rows[offset : offset + limit].values_list(JSON_COLUMN, *keys)


class Compiler:
    """Builds the statement of one root field for one reader (its user's scope)."""

    def __init__(self, reader: Reader, recording: bool, utc: bool) -> None:
        self.reader = reader
        self.graph = reader.graph
        self.scope = reader.scope
        self.recording = recording
        self.utc = utc

    # -- root fields ---------------------------------------------------------------
    def page(self, spec: ModelSpec, selection: FieldSelection) -> Statement:
        qs = self.reader.filtered(spec, selection.args)
        offset, limit = page_bounds(selection.args)
        ordering = compile_ordering(self.graph, self.scope, spec, selection.args.get("ordering"))
        value, level = self.object(spec, selection.children or {}, "")
        agg, columns = sql_json.aggregate(ordering)
        return self._statement(
            _ordered(qs, value, ordering, offset, limit),
            f"SELECT {agg}::text FROM (", f") _dgr_s({columns})", many=True, level=level)

    def get(self, spec: ModelSpec, selection: FieldSelection) -> Statement:
        qs = self.scope.readable(spec)
        if qs is None:
            raise Unsupported("not readable: the reader says so")
        value, level = self.object(spec, selection.children or {}, "")
        rows = qs.filter(pk=Slot(output_field=spec.pk.django_field))
        rows = rows.annotate(**{JSON_COLUMN: value})[:1]
        return self._statement(
            rows.values_list(JSON_COLUMN), "SELECT _dgr_s.j::text FROM (", ") _dgr_s(j)",
            many=False, level=level, label=stream_label(spec))

    def _statement(self, qs: QuerySet, before: str, after: str, many: bool,
                   level: Level | None, label: str | None = None) -> Statement:
        """The statement ``before`` + the SQL of ``qs`` + ``after``."""
        using = qs.db
        recorded = level if self.recording else None
        try:
            sql, params = qs.query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            return Statement(using, None, (), many, recorded)
        slots = [i for i, param in enumerate(params) if param is Slot.MARK]
        if len(slots) > 1:
            raise Unsupported("the key is used twice")
        return Statement(using, before + sql + after, tuple(params), many, recorded,
                         slots[0] if slots else None, label)

    # -- one object level ------------------------------------------------------------
    def object(self, spec: ModelSpec, children: dict[str, FieldSelection],
               prefix: str) -> tuple[SQL, Level]:
        """The JSON object of ``spec``'s columns under ``prefix`` (joined), as selected."""
        level = Level(stream_label(spec))
        pairs: list[tuple[str, Any]] = []
        #: The reserved keys (recorded rows), after the response's own.
        reserved: list[tuple[str, Any]] = []
        for key, child in children.items():
            pairs.append((key, self._value(spec, key, child, prefix, level, reserved)))
        if self.recording:
            reserved.append((PK_KEY, Cast(F(prefix + spec.pk.attname), TextField())))
        return sql_json.json_object(pairs + reserved), level

    def _value(self, spec: ModelSpec, key: str, child: FieldSelection, prefix: str,
               level: Level, reserved: list[tuple[str, Any]]) -> Any:
        name = child.name
        if name == TYPENAME:
            return sql_json.text(spec.type_name)
        if name in spec.fields:
            field_spec = spec.fields[name]
            if field_spec.kind.shape is not None:
                raise Unsupported(f"{name}: an object value ({field_spec.kind.shape})")
            return sql_json.scalar(field_spec, prefix + field_spec.attname, self.utc)
        if name in spec.relations:
            return self._relation(spec.relations[name], key, child, prefix, level, reserved)
        base = name[: -len(COUNT_SUFFIX)]
        if name.endswith(COUNT_SUFFIX) and base in spec.relations:
            return self._count(spec.relations[base], child, prefix)
        raise Unsupported(f"{name}: computed in Python")

    def _relation(self, relation: RelationSpec, key: str, child: FieldSelection,
                  prefix: str, level: Level, reserved: list[tuple[str, Any]]) -> Any:
        if relation.kind == "generic":
            raise Unsupported(f"{relation.name}: a generic relation")
        if relation.key_on_remote is not None:
            raise Unsupported(f"{relation.name}: a key spelled differently on the other side")
        target = self.graph.specs[relation.target]
        rule = self.scope.read_rule(target)
        if rule is False:
            return SQL(sql_json.EMPTY_LIST) if relation.many else SQL("NULL::json")
        children = child.children or {}
        if relation.many:
            return self._many(relation, target, child, prefix, level, key)
        if rule is True:  # joined, as the reader does: the columns come in the same row
            sub_prefix = f"{prefix}{relation.query_name}__"
            value, sub_level = self.object(target, children, sub_prefix)
            level.children.append((key, sub_level))
            return SQL("(CASE WHEN {0} IS NULL THEN NULL ELSE {1} END)",
                       F(sub_prefix + target.pk.attname), value)
        value, sub_level = self.object(target, children, "")
        level.children.append((key, sub_level))
        if relation.kind == "forward":
            readable = self.scope.readable(target)
            assert readable is not None
            local = prefix + (relation.local_attname or "")
            if self.recording and relation.target_key == target.pk.attname:
                level.asked.append((ASKED + key, stream_label(target)))
                reserved.append((ASKED + key, Cast(F(local), TextField())))
            rows = readable.filter(**{relation.target_key: OuterRef(local)})
        else:
            rows = self._children(relation, target, prefix)
        return JSONOne(rows.annotate(**{JSON_COLUMN: value}).values(JSON_COLUMN)[:1])

    def _children(self, relation: RelationSpec, target: ModelSpec, prefix: str) -> QuerySet:
        rule = self.scope.read_rule(target)
        rows = related_rows(relation, target, OuterRef(prefix + relation.local_key))
        return rows if rule is True else restrict(rows, rule)  # type: ignore[arg-type]

    def _many(self, relation: RelationSpec, target: ModelSpec, child: FieldSelection,
              prefix: str, level: Level, key: str) -> JSONList:
        args = child.args
        rows = restrict(self._children(relation, target, prefix), FilterCompiler(
            self.graph, self.scope).compile(target, args.get("filters")).q)
        offset, limit = page_bounds(args)
        ordering = compile_ordering(self.graph, self.scope, target, args.get("ordering"))
        value, sub_level = self.object(target, child.children or {}, "")
        level.children.append((key, sub_level))
        return JSONList(_ordered(rows, value, ordering, offset, limit), ordering)

    def _count(self, relation: RelationSpec, child: FieldSelection, prefix: str) -> Any:
        if relation.key_on_remote is not None:
            raise Unsupported(f"{relation.name}: a key spelled differently on the other side")
        target = self.graph.specs[relation.target]
        rule = self.scope.read_rule(target)
        if rule is False:
            return SQL("NULL::json")
        condition = FilterCompiler(self.graph, self.scope).compile(
            target, child.args.get("filters")).q
        if rule is not True:
            condition &= rule
        return count_subquery(relation, target, condition, OuterRef(prefix + relation.local_key))


# -- the statements, by plan and scope ------------------------------------------------
_statements: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
_lock = threading.Lock()
_failed: set[str] = set()


def _usable(spec: ModelSpec) -> str | None:
    """The database alias of ``spec``'s reads, when the compiled path can serve it."""
    if not graphql_settings().compiled_reads or django.VERSION[:2] not in TESTED_DJANGO:
        return None
    using = spec.model._default_manager.db
    return using if connections[using].vendor == "postgresql" else None


def _compile(reader: Reader, kind: str, spec: ModelSpec, selection: FieldSelection,
             using: str) -> Statement | None:
    utc = connections[using].timezone_name == "UTC"
    compiler = Compiler(reader, reader.seen is not None, utc)
    build: Callable[[ModelSpec, FieldSelection], Statement] = getattr(compiler, kind)
    try:
        return build(spec, selection)
    except (Unsupported, GraphQLUserError):  # the reader answers (or reports the error)
        return None
    except Exception:  # a shape not foreseen: the reader's answer is the right one
        label = f"{spec.label}.{selection.name}"
        if label not in _failed:
            _failed.add(label)
            logger.exception("api_graphql: could not compile %s; read by the reader", label)
        return None


def _frozen(children: dict[str, FieldSelection] | None) -> Any:
    """What a selection asks for below its root, as a key (TypeError: no key)."""
    return tuple((key, child.name, orjson.dumps(child.args, option=orjson.OPT_SORT_KEYS),
                  _frozen(child.children), tuple(sorted(
                      (name, _frozen(variant)) for name, variant in child.variants.items())))
                 for key, child in (children or {}).items())


def _key(kind: str, selection: FieldSelection, reader: Reader, using: str) -> tuple[Any, ...]:
    """The cache key of a statement: its plan's selection (document and variables) and
    the scope; for ``get``, the document's field and what it selects, not the key
    asked for: one statement serves every key."""
    common = (kind, reader.scope.key, reader.seen is not None, using)
    if kind == "get":
        try:
            return (*common, id(selection.nodes[0]), _frozen(selection.children))
        except TypeError:  # an argument orjson cannot write: this plan's own statement
            pass
    return (*common, id(selection))


def answer(reader: Reader, kind: str, spec: ModelSpec, selection: FieldSelection) -> Any:
    """The value of a root field (``kind``: the reader's method, "page" or "get"), by
    its compiled statement when it has one, else by the reader."""
    using = _usable(spec)
    if using is None:
        return getattr(reader, kind)(spec, selection)
    key: tuple[Any, Any] | None = None
    if kind == "get":
        pk_field = spec.pk.django_field
        try:
            python_key = pk_field.to_python(selection.args["pk"])
            key = (python_key, pk_field.get_db_prep_value(python_key, connections[using]))
        except Exception:  # the reader reports the invalid key
            return reader.get(spec, selection)
    conf = graphql_settings()
    cache_key = _key(kind, selection, reader, using)
    cached = _statements.get(cache_key)
    # The selection is kept with its statement: the ids in the key stay its own.
    if cached is not None and cached[1] is conf:
        statement = cached[2]
    else:
        statement = _compile(reader, kind, spec, selection, using)
        with _lock:
            _statements[cache_key] = (selection, conf, statement)
            if len(_statements) > CACHE_SIZE:
                _statements.popitem(last=False)
    if statement is None:
        return getattr(reader, kind)(spec, selection)
    return statement.run(reader.seen, key)
