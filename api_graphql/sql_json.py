"""SQL expressions that make PostgreSQL write a response's JSON itself.

Each value is written in the form the Python path would give it, so that the
answer, once parsed, is equal value for value and in the same key order: objects
with ``json_build_object`` (``json``, not ``jsonb``, which would reorder the keys),
lists with ``json_agg`` ordered by a row number, and each scalar as its wire form
(:func:`scalar`), or not at all: a field whose conversion PostgreSQL cannot
reproduce raises :class:`Unsupported` and the whole root field keeps the Python path.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Expression, F, OrderBy, Subquery

from api_graphql import field_types
from api_graphql.model_graph import FieldSpec

#: ``json_build_object`` takes at most 100 arguments (PostgreSQL's FUNC_MAX_ARGS).
MAX_KEYS = 50


class Unsupported(Exception):
    """This selection needs the Python path (the reason is the message)."""


class JSONText(models.TextField):
    """The output field of the expressions here: PostgreSQL's ``json``, read as text."""


def literal(text: str) -> str:
    """``text`` as a SQL string literal inside a template of :class:`SQL`: quotes
    doubled, ``%`` doubled (the SQL goes through psycopg's parameter formatting) and
    braces doubled (the template goes through ``str.format``)."""
    escaped = text.replace("'", "''").replace("%", "%%").replace("{", "{{").replace("}", "}}")
    return f"'{escaped}'"


class SQL(Expression):
    """``template`` with ``{0}``, ``{1}`` ... replaced by the compiled ``expressions``."""

    def __init__(self, template: str, *expressions: Any) -> None:
        super().__init__(output_field=JSONText())
        self.template = template
        self.expressions = list(expressions)

    def get_source_expressions(self) -> list[Any]:
        return self.expressions

    def set_source_expressions(self, exprs: Any) -> None:
        self.expressions = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        parts: list[str] = []
        params: list[Any] = []
        for expression in self.expressions:
            sql, sub_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(sub_params)
        return self.template.format(*parts), params


def json_object(pairs: list[tuple[str, Any]]) -> SQL:
    """``json_build_object`` of (response key, value expression), keys in this order."""
    if len(pairs) > MAX_KEYS:
        raise Unsupported(f"more than {MAX_KEYS} keys in one object")
    if not pairs:
        return SQL("json_build_object()")
    template = ", ".join(f"{literal(key)}, {{{i}}}" for i, (key, _) in enumerate(pairs))
    return SQL(f"json_build_object({template})", *(value for _, value in pairs))


def text(value: str) -> SQL:
    return SQL(f"{literal(value)}::text")


EMPTY_LIST = "'[]'::json"


def aggregate(ordering: list[OrderBy]) -> tuple[str, str]:
    """(``json_agg`` of the rows of a derived table ``_dgr_s`` in this order, the
    derived table's column names): the rows select their json, then each ordering key.
    Ordering the aggregate by the keys, not by a row number, leaves PostgreSQL its
    top-N sort under the LIMIT (a window function made it sort every row)."""
    keys = []
    for i, order in enumerate(ordering):
        nulls = " NULLS FIRST" if order.nulls_first else " NULLS LAST" if order.nulls_last else ""
        keys.append(f"_dgr_s.o{i} {'DESC' if order.descending else 'ASC'}{nulls}")
    columns = ", ".join(["j", *(f"o{i}" for i in range(len(ordering)))])
    return f"COALESCE(json_agg(_dgr_s.j ORDER BY {', '.join(keys)}), {EMPTY_LIST})", columns


class JSONList(Subquery):
    """A list of objects: ``queryset`` selects the json of each row, then its ordering
    keys (see :func:`aggregate`)."""

    output_field = JSONText()

    def __init__(self, queryset: Any, ordering: list[OrderBy]) -> None:
        agg, columns = aggregate(ordering)
        super().__init__(queryset, template=f"(SELECT {agg} FROM (%(subquery)s) _dgr_s({columns}))")

    def as_sql(self, compiler: Any, connection: Any, *args: Any,
               **kwargs: Any) -> tuple[str, Any]:
        try:
            return super().as_sql(compiler, connection, *args, **kwargs)
        except EmptyResultSet:  # a filter no row can match: Django skips the query
            return EMPTY_LIST, ()


class JSONOne(Subquery):
    """One object or null: ``queryset`` selects the json of at most one row."""

    output_field = JSONText()

    def as_sql(self, compiler: Any, connection: Any, *args: Any,
               **kwargs: Any) -> tuple[str, Any]:
        try:
            return super().as_sql(compiler, connection, *args, **kwargs)
        except EmptyResultSet:
            return "NULL", ()


_INTEGERS = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
             "SmallIntegerField", "BigIntegerField", "PositiveIntegerField",
             "PositiveSmallIntegerField", "PositiveBigIntegerField"}
_TEXTS = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
#: Django's column classes whose value reaches JSON as PostgreSQL writes it.
_AS_IS = {
    "String": _TEXTS,
    "Int": _INTEGERS,
    "Boolean": {"BooleanField", "NullBooleanField"},
    "Date": {"DateField"},
    "UUID": {"UUIDField"},
}


def _column_type(field: models.Field) -> str:
    target = getattr(field, "target_field", None)  # a foreign key: its target's column
    column = target if target is not None and field.is_relation else field
    return str(column.get_internal_type())


def _django_column(field: models.Field) -> bool:
    return type(field).__module__.startswith("django.")


def _iso(value: str, seconds: str, suffix: str) -> str:
    """ISO 8601 as Python's ``isoformat`` (and orjson) write it: microseconds only when
    not zero (PostgreSQL's own JSON drops their trailing zeros instead)."""
    return (f"(to_char({value}, '{seconds}') "
            f"|| COALESCE(NULLIF(to_char({value}, '.US'), '.000000'), ''){suffix})")


def datetime_wire(expression: Any) -> SQL:
    """A ``timestamptz`` as orjson writes an aware UTC datetime."""
    return SQL(_iso("({0} AT TIME ZONE 'UTC')", 'YYYY-MM-DD"T"HH24:MI:SS', " || '+00:00'"),
               expression)


def time_wire(expression: Any) -> SQL:
    """A ``time`` as ``time.isoformat()`` (scalars.time_to_wire) writes it."""
    return SQL(_iso("{0}", "HH24:MI:SS", ""), expression)


#: ``str(Decimal)`` switches to an exponent below 1E-6 (``1E-7``); PostgreSQL's
#: ``numeric::text`` never does, so only columns with at most 6 decimal places agree.
DECIMAL_PLACES = 6


def scalar(field: FieldSpec, path: str, utc_connection: bool) -> Any:
    """The expression writing ``field`` (the column at ``path``) as the Python path
    would, or :class:`Unsupported`."""
    django_field = field.django_field
    if not _django_column(django_field) and not field.django_field.is_relation:
        raise Unsupported(f"{field.name}: a column class of another package")
    column = _column_type(django_field)
    kind = field.kind
    value: Any = F(path)
    if field.enum is not None:
        names = field.enum.name_by_value
        if any(not isinstance(v, str | int) or isinstance(v, bool) for v in names):
            raise Unsupported(f"{field.name}: choices of another type")
        if all(name == stored for stored, name in names.items()):
            return value
        cases = " ".join(f"WHEN {{0}} = {literal(str(stored))} THEN {literal(name)}"
                         for stored, name in names.items())
        cast = "::text" if column in _INTEGERS else ""
        return SQL(f"(CASE {cases.replace('{0}', '{0}' + cast)} END)", value)
    if kind is field_types.ID or kind is field_types.BIGINT:
        if column not in _INTEGERS | _TEXTS:
            raise Unsupported(f"{field.name}: a key of type {column}")
        return SQL("({0})::text", value)
    if kind is field_types.DATETIME and column == "DateTimeField":
        if not (settings.USE_TZ and utc_connection):
            raise Unsupported(f"{field.name}: datetimes outside UTC")
        return datetime_wire(value)
    if kind is field_types.TIME and column == "TimeField":
        return time_wire(value)
    if (kind is field_types.DECIMAL and column == "DecimalField"
            and (getattr(django_field, "decimal_places", None) or 0) <= DECIMAL_PLACES):
        return SQL("({0})::text", value)
    if column in _AS_IS.get(kind.name, ()) and field.encode is None:
        return value
    raise Unsupported(f"{field.name}: {kind.name} ({column})")
