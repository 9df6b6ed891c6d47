"""How each Django field class maps to a GraphQL scalar, its wire form and its lookups.

The mapping walks the field class's MRO, so a subclass of CharField maps as a
CharField. A field class nobody knows falls back to String, with a warning when the
schema is built, never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from django.db import models
from django.db.models.fields.related import ForeignObject

from api_graphql import scalars

logger = logging.getLogger(__name__)

EQUALITY = ("exact", "in", "isnull")
ORDERED = ("gt", "gte", "lt", "lte", "range")
TEXT = (
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "regex",
    "iregex",
)


@dataclass(frozen=True)
class ScalarKind:
    """One GraphQL scalar as a Django column presents it."""

    name: str
    annotation: Any
    to_wire: Callable[[Any], Any] | None
    lookups: tuple[str, ...]
    #: Django transforms offered as nested filters, e.g. ``created_at: {year: {gte: 2020}}``.
    transforms: tuple[tuple[str, str], ...] = ()


def _str(value: Any) -> str:
    return str(value)


ID = ScalarKind("ID", strawberry.ID, _str, EQUALITY + ORDERED)
STRING = ScalarKind("String", str, None, EQUALITY + ORDERED + TEXT)
UNKNOWN = ScalarKind("String", str, _str, EQUALITY + TEXT)
INT = ScalarKind("Int", int, None, EQUALITY + ORDERED)
BIGINT = ScalarKind("BigInt", scalars.BigInt, _str, EQUALITY + ORDERED)
FLOAT = ScalarKind("Float", float, None, EQUALITY + ORDERED)
DECIMAL = ScalarKind("Decimal", scalars.Decimal, scalars.decimal_to_wire, EQUALITY + ORDERED)
BOOLEAN = ScalarKind("Boolean", bool, None, ("exact", "isnull"))
# DateTime, Date, Time and UUID values are written by orjson as they are, in the same
# ISO 8601 / canonical forms the scalars produce, so the reader leaves them alone.
DATETIME = ScalarKind(
    "DateTime",
    scalars.DateTime,
    None,
    EQUALITY + ORDERED,
    (
        ("date", "Date"),
        ("year", "Int"),
        ("month", "Int"),
        ("day", "Int"),
        ("week_day", "Int"),
        ("hour", "Int"),
    ),
)
DATE = ScalarKind(
    "Date",
    scalars.Date,
    None,
    EQUALITY + ORDERED,
    (("year", "Int"), ("month", "Int"), ("day", "Int"), ("week_day", "Int")),
)
TIME = ScalarKind("Time", scalars.Time, None, EQUALITY + ORDERED, (("hour", "Int"),))
DURATION = ScalarKind("Duration", scalars.Duration, scalars.duration_to_wire, EQUALITY + ORDERED)
UUID = ScalarKind("UUID", scalars.UUID, None, EQUALITY)
BASE64 = ScalarKind("Base64", scalars.Base64, scalars.bytes_to_wire, ("isnull",))
JSON = ScalarKind("JSON", scalars.JSON, None, ("exact", "isnull", "has_key"))
#: File and image fields: an object ``{name, url}``, filtered by the stored name.
FILE = ScalarKind("File", str, None, EQUALITY + TEXT)

#: Scalar kinds by GraphQL name, for transforms and filter inputs.
BY_NAME = {kind.name: kind for kind in (ID, STRING, INT, BIGINT, FLOAT, DECIMAL, BOOLEAN,
                                        DATETIME, DATE, TIME, DURATION, UUID, BASE64, JSON)}

_BY_FIELD_CLASS: dict[type[models.Field], ScalarKind] = {
    models.BooleanField: BOOLEAN,
    models.CharField: STRING,
    models.TextField: STRING,
    models.GenericIPAddressField: STRING,
    models.FilePathField: STRING,
    models.BigIntegerField: BIGINT,
    models.IntegerField: INT,
    models.FloatField: FLOAT,
    models.DecimalField: DECIMAL,
    models.DateTimeField: DATETIME,
    models.DateField: DATE,
    models.TimeField: TIME,
    models.DurationField: DURATION,
    models.UUIDField: UUID,
    models.BinaryField: BASE64,
    models.JSONField: JSON,
    models.FileField: FILE,
}

_warned: set[str] = set()


def scalar_kind(field: models.Field) -> ScalarKind:
    """The scalar of a concrete column: primary and foreign keys are IDs."""
    if field.primary_key or isinstance(field, ForeignObject):
        target = field.target_field if isinstance(field, ForeignObject) else field
        if isinstance(target, models.UUIDField):
            return UUID
        return ID
    for klass in type(field).__mro__:
        kind = _BY_FIELD_CLASS.get(klass)
        if kind is not None:
            return kind
    field_class = f"{type(field).__module__}.{type(field).__name__}"
    label = f"{field.model._meta.label}.{field.name} ({field_class})"
    if label not in _warned:
        _warned.add(label)
        logger.warning("api_graphql: no GraphQL mapping for field %s; exposed as String", label)
    return UNKNOWN
