"""Capture at the database: row-level triggers write the outbox.

Each exposed model's table, and each many-to-many through table with an exposed
side, gets a trigger that writes a :class:`~realtime.models.ChangeRecord` in the
same statement as the change, from OLD and NEW: whoever writes (the ORM, a
``QuerySet.update``, ``bulk_create``, raw SQL, psql, another program) the change
and its record commit or roll back together, changed fields and previous values
are exact, and an UPDATE that changes nothing records nothing.

Triggers are named ``realtime_<digest>``, the digest of their SQL: ``install``
(run at ``post_migrate``) creates the planned ones that are missing and drops any
other ``realtime_`` trigger, so a changed model or a model no longer exposed is
brought up to date by the next ``migrate``. ``missing`` names the tables whose
capture is not installed as planned (checked when a server starts).

Own SQL rather than django-pgtrigger: it manages PostgreSQL only (SQLite is the
embedded default here) and declares triggers on the models (``Meta.triggers`` or a
registration per model), while these follow the API's exposure of unchanged models.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

from realtime.capture import concrete, exposed_models, stream_labels

logger = logging.getLogger(__name__)
PREFIX = "realtime_"
#: The PostgreSQL NOTIFY channel of committed captured writes.
NOTIFY_CHANNEL = "realtime_changes"


@dataclass(frozen=True)
class Column:
    name: str  # the field's name, as changed_fields lists it
    attname: str  # the key of previous values
    column: str
    kind: str  # "json", "binary", "uuid" (a UUID, or a key pointing at one) or ""


@dataclass(frozen=True)
class ModelTable:
    """A model's own table: CREATED, UPDATED and DELETED of its rows."""

    table: str
    pk: Column
    #: Streams of the rows of this table (the model's own, when it is exposed).
    labels: tuple[str, ...]
    columns: tuple[Column, ...]
    #: (table, pk column) of each parent, whose columns a DELETED row carries too.
    parents: tuple[tuple[str, str, tuple[Column, ...]], ...]
    #: (label, table, pk column) of exposed descendants: their rows change with ours.
    descendants: tuple[tuple[str, str, str], ...]
    #: Streams of exposed parents: a Restaurant's own columns changed is a Place
    #: changed too (parents' CREATED and DELETED come from their own tables).
    ancestors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThroughTable:
    """A many-to-many through table: each row added or removed is an UPDATED of
    both objects, naming the relation from each side."""

    table: str
    sides: tuple[tuple[str, Column, str | None], ...]  # (label, column, relation name)


Capture = ModelTable | ThroughTable


def _kind(field: models.Field[Any, Any]) -> str:
    while isinstance(field, models.ForeignKey):  # a key is stored as its target is
        field = field.target_field
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.BinaryField):
        return "binary"
    return "uuid" if field.get_internal_type() == "UUIDField" else ""


def _column(field: models.Field[Any, Any]) -> Column:
    return Column(field.name, field.attname, field.column or field.attname, _kind(field))


def _columns(model: type[models.Model]) -> tuple[Column, ...]:
    return tuple(_column(field) for field in model._meta.local_concrete_fields)


def _through_column(through: type[models.Model], column: str) -> Column:
    """A through table's column by name: a library's many-to-many (taggit's) gives only
    the names, which are not always a concrete field's (a generic key's object id)."""
    for field in through._meta.concrete_fields:
        if field.column == column:
            return _column(field)
    return Column(column, column, column, "")


def _pk(model: type[models.Model]) -> Column:
    pk = model._meta.pk
    assert pk is not None and pk.column is not None
    return _column(pk)


def plan(using: str = "default") -> list[Capture]:
    """What should be captured on a database: one entry per table."""
    exposed = exposed_models()
    allowed = {m for m in exposed if router.allow_migrate_model(using, m)}
    tables: dict[type[models.Model], list[tuple[str, str, str]]] = {}
    for model in sorted(allowed, key=lambda m: m._meta.label_lower):
        tables.setdefault(model, [])
        for parent in model._meta.get_parent_list():
            tables.setdefault(concrete(parent), []).append(
                (model._meta.label_lower, model._meta.db_table, _pk(model).column))
    result: list[Capture] = []
    for model, descendants in sorted(tables.items(), key=lambda i: i[0]._meta.db_table):
        parents = tuple((p._meta.db_table, _pk(p).column, _columns(p))
                        for p in model._meta.get_parent_list())
        ancestors = tuple(concrete(p)._meta.label_lower for p in model._meta.get_parent_list()
                          if concrete(p) in allowed)
        result.append(ModelTable(
            model._meta.db_table, _pk(model),
            (model._meta.label_lower,) if model in allowed else (), _columns(model),
            parents, tuple(sorted(descendants)), ancestors))
    seen: set[str] = set()
    for model in sorted({concrete(m) for m in apps_models()}, key=lambda m: m._meta.label_lower):
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if not isinstance(through, type) or through._meta.db_table in seen:
                continue
            target = concrete(field.related_model)
            owner_labels = stream_labels(model)
            target_labels = stream_labels(target)
            if not (owner_labels or target_labels):
                continue
            if not router.allow_migrate_model(using, through):
                continue
            seen.add(through._meta.db_table)
            theirs = field.remote_field.get_accessor_name()
            ours, other = (_through_column(through, str(name))
                           for name in (field.m2m_column_name(), field.m2m_reverse_name()))
            sides: list[tuple[str, Column, str | None]] = [
                (label, ours, field.name) for label in owner_labels]
            sides += [(label, other, theirs) for label in target_labels]
            result.append(ThroughTable(through._meta.db_table, tuple(sides)))
    return result


def apps_models() -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if m._meta.app_label != "realtime"]


# -- SQL -----------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:16]


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


class Dialect:
    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        from realtime.models import ChangeRecord

        self.connection = connection
        self.q = connection.ops.quote_name
        self.outbox = self.q(ChangeRecord._meta.db_table)


class PostgreSQL(Dialect):
    def value(self, row: str, column: Column) -> str:
        return f"to_jsonb({row}.{self.q(column.column)})"

    def differs(self, column: Column) -> str:
        c = self.q(column.column)
        if column.kind == "json":  # json has no equality; jsonb does, but text is exact
            return f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text"
        return f"OLD.{c} IS DISTINCT FROM NEW.{c}"

    def insert(self, label: str, pk: str, op: str, changed: str, previous: str) -> str:
        # NOTIFY is delivered at commit, once per transaction however many rows: it
        # wakes every hub for writes made outside its own process.
        return (f"INSERT INTO {self.outbox} (model, object_pk, op, changed_fields, previous, "
                f"created_at) VALUES ({_literal(label)}, ({pk})::text, '{op}', {changed}, "
                f"{previous}, now()); PERFORM pg_notify('{NOTIFY_CHANNEL}', '');")

    def row_object(self, row: str, columns: Iterable[Column]) -> str:
        pairs = [f"{_literal(c.attname)}, {self.value(row, c)}" for c in columns]
        chunks = [pairs[i:i + 40] for i in range(0, len(pairs), 40)] or [[]]
        return " || ".join(f"jsonb_build_object({', '.join(chunk)})" for chunk in chunks)

    def model_body(self, capture: ModelTable) -> str:
        q = self.q
        pk_new, pk_old = f"NEW.{q(capture.pk.column)}", f"OLD.{q(capture.pk.column)}"
        deleted = self.row_object("OLD", capture.columns)
        for table, pk, columns in capture.parents:
            deleted += (f" || coalesce((SELECT {self.row_object('p', columns)} FROM {q(table)} p"
                        f" WHERE p.{q(pk)} = {pk_old}), '{{}}'::jsonb)")
        values = ", ".join(
            f"({i}, {_literal(c.name)}, {_literal(c.attname)}, {self.value('OLD', c)}, "
            f"{self.differs(c)})" for i, c in enumerate(capture.columns))
        lines = ["DECLARE changed jsonb; previous jsonb;", "BEGIN",
                 "IF TG_OP = 'INSERT' THEN"]
        lines += [self.insert(label, pk_new, "CREATED", "NULL", "NULL")
                  for label in capture.labels]
        lines += ["RETURN NULL;", "ELSIF TG_OP = 'DELETE' THEN"]
        lines += [self.insert(label, pk_old, "DELETED", "NULL", deleted)
                  for label in capture.labels]
        lines += ["RETURN NULL;", "END IF;",
                  "SELECT jsonb_agg(c.name ORDER BY c.i), jsonb_object_agg(c.attname, c.old) "
                  f"INTO changed, previous FROM (VALUES {values}) AS c(i, name, attname, old, "
                  "differs) WHERE c.differs;",
                  "IF changed IS NULL THEN RETURN NULL; END IF;"]
        lines += [self.insert(label, pk_new, "UPDATED", "changed", "previous")
                  for label in (*capture.labels, *capture.ancestors)]
        for label, table, pk in capture.descendants:
            lines += [f"IF EXISTS (SELECT 1 FROM {q(table)} WHERE {q(pk)} = {pk_new}) THEN",
                      self.insert(label, pk_new, "UPDATED", "changed", "previous"), "END IF;"]
        lines += ["RETURN NULL;", "END"]
        return "\n".join(lines)

    def through_body(self, capture: ThroughTable) -> str:
        lines = ["BEGIN"]
        for row, guard in (("OLD", "TG_OP IN ('DELETE', 'UPDATE')"),
                           ("NEW", "TG_OP IN ('INSERT', 'UPDATE')")):
            lines.append(f"IF {guard} THEN")
            for label, column, relation in capture.sides:
                changed = f"jsonb_build_array({_literal(relation)})" if relation else "NULL"
                lines.append(self.insert(label, f"{row}.{self.q(column.column)}", "UPDATED",
                                         changed, "'{}'::jsonb"))
            lines.append("END IF;")
        lines += ["RETURN NULL;", "END"]
        return "\n".join(lines)

    def statements(self, capture: Capture) -> tuple[str, list[str]]:
        body = (self.model_body(capture) if isinstance(capture, ModelTable)
                else self.through_body(capture))
        name = PREFIX + _digest(capture.table, body)
        table, function = self.q(capture.table), self.q(name)
        return name, [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$realtime$\n{body}\n$realtime$",
            f"CREATE TRIGGER {function} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]

    def installed(self) -> dict[str, str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT t.tgname, c.relname FROM pg_trigger t "
                           "JOIN pg_class c ON c.oid = t.tgrelid "
                           "WHERE NOT t.tgisinternal AND t.tgname LIKE %s "
                           "AND pg_table_is_visible(c.oid)", [PREFIX + "%"])
            return dict(cursor.fetchall())

    def drop(self, name: str, table: str) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.q(name)} ON {self.q(table)}",
                f"DROP FUNCTION IF EXISTS {self.q(name)}()"]


class SQLite(Dialect):
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"

    def value(self, row: str, column: Column) -> str:
        ref = f"{row}.{self.q(column.column)}"
        if column.kind == "json":
            return f"CASE WHEN json_valid({ref}) THEN json({ref}) ELSE {ref} END"
        if column.kind == "binary":
            return f"hex({ref})"  # JSON holds no BLOB
        if column.kind == "uuid":
            # Django stores 32 hex digits here; events carry the UUID as Django prints
            # it (str(uuid), PostgreSQL's form). Any other text (raw SQL) is left as is.
            dashed = "||'-'||".join(f"substr({ref}, {start}, {length})" for start, length in
                                    ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12)))
            return (f"CASE WHEN length({ref}) = 32 THEN lower({dashed}) "
                    f"ELSE {ref} END")
        return ref

    def differs(self, column: Column) -> str:
        c = self.q(column.column)
        return f"OLD.{c} IS NOT NEW.{c}"

    def insert(self, label: str, pk: str, op: str, changed: str, previous: str,
               where: str = "") -> str:
        return (f"INSERT INTO {self.outbox} (model, object_pk, op, changed_fields, previous, "
                f"created_at) SELECT {_literal(label)}, CAST({pk} AS TEXT), '{op}', {changed}, "
                f"{previous}, {self.now}{' WHERE ' + where if where else ''};")

    def row_object(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object of (key, value expression) pairs, within SQLite's argument limit."""
        head, rest = pairs[:40], pairs[40:]
        result = "json_object(" + ", ".join(f"{_literal(k)}, {v}" for k, v in head) + ")"
        for i in range(0, len(rest), 40):
            chunk = rest[i:i + 40]
            result = ("json_set(" + result + ", " + ", ".join(
                f"{_literal('$.' + chr(34) + k + chr(34))}, {v}" for k, v in chunk) + ")")
        return result

    def statements(self, capture: Capture) -> tuple[str, list[str]]:
        q = self.q
        table = q(capture.table)
        triggers: list[tuple[str, str, str]] = []  # (event, when, body)
        if isinstance(capture, ModelTable):
            pk_new, pk_old = f"NEW.{q(capture.pk.column)}", f"OLD.{q(capture.pk.column)}"
            key_new, key_old = self.value("NEW", capture.pk), self.value("OLD", capture.pk)
            pairs = [(c.attname, self.value("OLD", c)) for c in capture.columns]
            for parent_table, parent_pk, columns in capture.parents:
                pairs += [(c.attname, f"(SELECT {self.value('p', c)} FROM {q(parent_table)} p "
                                      f"WHERE p.{q(parent_pk)} = {pk_old})") for c in columns]
            deleted = self.row_object(pairs)
            names = " UNION ALL ".join(f"SELECT {_literal(c.name)} AS name WHERE "
                                       f"{self.differs(c)}" for c in capture.columns)
            changed = f"(SELECT json_group_array(name) FROM ({names}))"
            previous = self.row_object([(c.attname, self.value("OLD", c))
                                        for c in capture.columns])
            # Remove the unchanged keys: json_remove of a path that matches nothing is a no-op.
            for i in range(0, len(capture.columns), 100):
                removals = [_literal("$." + chr(34) + c.attname + chr(34)) for c in
                            capture.columns[i:i + 100]]
                paths = [f"CASE WHEN {self.differs(c)} THEN '$.__realtime_kept' ELSE {r} END"
                         for c, r in zip(capture.columns[i:i + 100], removals, strict=True)]
                previous = f"json_remove({previous}, {', '.join(paths)})"
            any_change = " OR ".join(self.differs(c) for c in capture.columns) or "0"
            updated = [self.insert(label, key_new, "UPDATED", changed, previous)
                       for label in (*capture.labels, *capture.ancestors)]
            updated += [self.insert(label, key_new, "UPDATED", changed, previous,
                                    f"EXISTS (SELECT 1 FROM {q(t)} WHERE {q(pk)} = {pk_new})")
                        for label, t, pk in capture.descendants]
            triggers.append(("INSERT", "", "\n".join(
                self.insert(label, key_new, "CREATED", "NULL", "NULL")
                for label in capture.labels)))
            triggers.append(("UPDATE", any_change, "\n".join(updated)))
            triggers.append(("DELETE", "", "\n".join(
                self.insert(label, key_old, "DELETED", "NULL", deleted)
                for label in capture.labels)))
        else:
            for event, rows in (("INSERT", ["NEW"]), ("DELETE", ["OLD"]),
                                ("UPDATE", ["OLD", "NEW"])):
                body = []
                for row in rows:
                    for label, column, relation in capture.sides:
                        changed = f"json_array({_literal(relation)})" if relation else "NULL"
                        body.append(self.insert(label, self.value(row, column), "UPDATED",
                                                changed, "json_object()"))
                triggers.append((event, "", "\n".join(body)))
        triggers = [t for t in triggers if t[2]]
        digest = _digest(capture.table, *("|".join(t) for t in triggers))
        name = PREFIX + digest
        statements = [
            f"CREATE TRIGGER {q(f'{name}_{event.lower()}')} AFTER {event} ON {table} "
            f"FOR EACH ROW{' WHEN ' + when if when else ''} BEGIN\n{body}\nEND"
            for event, when, body in triggers]
        return name, statements

    def installed(self) -> dict[str, str]:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' "
                           "AND name LIKE %s", [PREFIX + "%"])
            return dict(cursor.fetchall())

    def drop(self, name: str, table: str) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.q(name)}"]


def dialect(connection: BaseDatabaseWrapper) -> PostgreSQL | SQLite | None:
    if connection.vendor == "postgresql":
        return PostgreSQL(connection)
    if connection.vendor == "sqlite":
        return SQLite(connection)
    return None


def _planned(sql: PostgreSQL | SQLite, using: str) -> Iterator[tuple[Capture, str, list[str]]]:
    for capture in plan(using):
        name, statements = sql.statements(capture)
        yield capture, name, statements


def _installed_names(sql: PostgreSQL | SQLite) -> dict[str, str]:
    """Installed trigger name (SQLite: without its event suffix) -> table."""
    found = sql.installed()
    if isinstance(sql, SQLite):
        return {name.rsplit("_", 1)[0]: table for name, table in found.items()}
    return found


def install(using: str = "default") -> tuple[list[str], list[str]]:
    """Create the planned triggers that are missing, drop the other ``realtime_`` ones;
    (tables now captured anew, tables no longer captured as before)."""
    connection = connections[using]
    sql = dialect(connection)
    if sql is None:
        return [], []
    existing = sql.installed()
    current = _installed_names(sql)
    wanted: dict[str, tuple[Capture, list[str]]] = {
        name: (capture, statements) for capture, name, statements in _planned(sql, using)}
    created, dropped = [], []
    with connection.cursor() as cursor:
        for name, table in existing.items():
            base = name.rsplit("_", 1)[0] if isinstance(sql, SQLite) else name
            if base not in wanted:
                for statement in sql.drop(name, table):
                    cursor.execute(statement)
                dropped.append(table)
        for name, (capture, statements) in wanted.items():
            if name in current:
                continue
            for statement in statements:
                cursor.execute(statement)
            created.append(capture.table)
    return created, sorted(set(dropped))


def missing(using: str = "default") -> list[str]:
    """Tables whose capture is not installed as planned (a ``migrate`` fixes them)."""
    sql = dialect(connections[using])
    if sql is None:
        return []
    current = _installed_names(sql)
    return [capture.table for capture, name, _ in _planned(sql, using) if name not in current]


def install_after_migrate(using: str = "default", **kwargs: Any) -> None:
    created, dropped = install(using)
    if created or dropped:
        logger.info("realtime: capture triggers installed on %s, removed from %s",
                    ", ".join(created) or "none", ", ".join(dropped) or "none")
