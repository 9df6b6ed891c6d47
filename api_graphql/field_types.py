"""How each Django field class maps to a GraphQL scalar, its wire form and its lookups.

In order: the fields of well-known libraries (django-money, phonenumber-field,
django-countries) by class path; Django's classes along the field class's MRO, so a
subclass of CharField maps as a CharField; then ``field.get_internal_type()``, which a
custom field uses to say which column it is (a block field storing JSON says
``JSONField``). A field class nobody knows falls back to text via
``value_to_string``, with a warning when the schema is built, never a crash.

Every value leaves as something JSON can hold: a field of a package that converts
what the database returns (``from_db_value``) is checked per value, and a value of an
unexpected type is written as text instead of reaching the encoder.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
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
    #: An object type outputs use instead of the scalar (``File``, ``Money``,
    #: ``Country``); filters, ordering and inputs keep the scalar.
    shape: str | None = None


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
# DateTime, Date and UUID values are written by orjson as they are, in the same
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
# Not orjson for times: it drops the leading zeros of the microseconds
# (time(14, 40, 9, 22887) -> "14:40:09.22887"), found by the corpus's differential test.
TIME = ScalarKind("Time", scalars.Time, scalars.time_to_wire, EQUALITY + ORDERED,
                  (("hour", "Int"),))
DURATION = ScalarKind("Duration", scalars.Duration, scalars.duration_to_wire, EQUALITY + ORDERED)
UUID = ScalarKind("UUID", scalars.UUID, None, EQUALITY)
BASE64 = ScalarKind("Base64", scalars.Base64, scalars.bytes_to_wire, ("isnull",))
JSON = ScalarKind("JSON", scalars.JSON, None, ("exact", "isnull", "has_key"))
#: File and image fields: an object ``{name, url}``, filtered by the stored name.
FILE = ScalarKind("File", str, None, EQUALITY + TEXT, shape="File")


def phone_to_wire(value: Any) -> str:
    """A phonenumber-field value in E.164 (``+33612345678``); an invalid one as entered."""
    if isinstance(value, str):
        return value
    try:
        if value.is_valid():
            return str(value.as_e164)
    except Exception:
        pass
    return str(getattr(value, "raw_input", None) or value)


#: django-money: ``{amount, currency}`` read from the amount and currency columns;
#: filtered and ordered by the amount.
MONEY = ScalarKind("Decimal", scalars.Decimal, scalars.decimal_to_wire, EQUALITY + ORDERED,
                   shape="Money")
#: phonenumber-field: the number in E.164, as a string.
PHONE = ScalarKind("String", str, phone_to_wire, EQUALITY + ORDERED + TEXT)
#: django-countries: ``{code, name}`` (a list for ``multiple=True``), filtered by code.
COUNTRY = ScalarKind("String", str, None, EQUALITY + ORDERED + TEXT, shape="Country")

#: Fields of well-known libraries, by class path (their packages stay optional).
_BY_CLASS_PATH: dict[str, ScalarKind] = {
    "djmoney.models.fields.MoneyField": MONEY,
    "phonenumber_field.modelfields.PhoneNumberField": PHONE,
    "django_countries.fields.CountryField": COUNTRY,
}

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

#: ``get_internal_type()`` names of Django's columns (a custom field may return any).
_BY_INTERNAL_TYPE: dict[str, ScalarKind] = {
    "AutoField": INT, "SmallAutoField": INT, "BigAutoField": BIGINT,
    "BooleanField": BOOLEAN, "NullBooleanField": BOOLEAN,
    "CharField": STRING, "TextField": STRING, "SlugField": STRING, "EmailField": STRING,
    "URLField": STRING, "GenericIPAddressField": STRING, "IPAddressField": STRING,
    "FilePathField": STRING,
    "IntegerField": INT, "SmallIntegerField": INT, "PositiveIntegerField": INT,
    "PositiveSmallIntegerField": INT, "BigIntegerField": BIGINT,
    "PositiveBigIntegerField": BIGINT, "FloatField": FLOAT, "DecimalField": DECIMAL,
    "DateTimeField": DATETIME, "DateField": DATE, "TimeField": TIME,
    "DurationField": DURATION, "UUIDField": UUID, "BinaryField": BASE64, "JSONField": JSON,
}

#: What a value of each kind is when it needs no conversion to be written as JSON.
_PLAIN: dict[str, tuple[type, ...]] = {
    "String": (str,), "Int": (int,), "Float": (float, int), "Boolean": (bool,),
    "DateTime": (datetime.datetime,), "Date": (datetime.date,), "Time": (datetime.time,),
    "UUID": (uuid.UUID, str), "JSON": (dict, list, str, int, float, bool),
}

_warned: set[str] = set()


def _class_path(klass: type) -> str:
    return f"{klass.__module__}.{klass.__qualname__}"


def as_text(field: models.Field, value: Any) -> str:
    """A value as the field itself writes it (``value_to_string``), else ``str``."""
    holder = SimpleNamespace(**{field.attname: value})
    try:
        text = field.value_to_string(holder)  # type: ignore[arg-type]
    except Exception:
        text = None
    return text if isinstance(text, str) else str(value)


def _as_json(field: models.Field, value: Any) -> Any:
    """A JSON-storing field's data (not, say, the HTML its value renders as)."""
    try:
        prepared = field.get_prep_value(value)
    except Exception:
        return as_text(field, value)
    if isinstance(prepared, str):
        try:
            return json.loads(prepared)
        except ValueError:
            return prepared
    return prepared if isinstance(prepared, _PLAIN["JSON"]) else as_text(field, value)


def _is_djangos(field: models.Field) -> bool:
    return type(field).__module__.startswith("django.")


def encoder(field: models.Field, kind: ScalarKind) -> Callable[[Any], Any] | None:
    """How a non-null value of ``field`` becomes its JSON form (None: as it is)."""
    if kind is UNKNOWN:
        return lambda value: as_text(field, value)
    converts = hasattr(field, "from_db_value") and not _is_djangos(field)
    if kind is JSON and not isinstance(field, models.JSONField):
        plain_json = _PLAIN["JSON"]
        return lambda value: value if isinstance(value, plain_json) else _as_json(field, value)
    to_wire = kind.to_wire
    if not converts:
        return to_wire
    if to_wire is not None:
        def guarded(value: Any) -> Any:
            try:
                return to_wire(value)
            except Exception:
                return as_text(field, value)
        return guarded
    plain = _PLAIN.get(kind.name)
    if plain is None:
        return None
    return lambda value: value if isinstance(value, plain) else as_text(field, value)


def scalar_kind(field: models.Field) -> ScalarKind:
    """The scalar of a concrete column: primary and foreign keys are IDs."""
    if field.primary_key or isinstance(field, ForeignObject):
        target = field.target_field if isinstance(field, ForeignObject) else field
        if isinstance(target, models.UUIDField):
            return UUID
        return ID
    for klass in type(field).__mro__:
        kind = _BY_CLASS_PATH.get(_class_path(klass))
        if kind is not None:
            return kind
    for klass in type(field).__mro__:
        kind = _BY_FIELD_CLASS.get(klass)
        if kind is not None:
            return kind
    try:
        internal = field.get_internal_type()
    except Exception:
        internal = None
    kind = _BY_INTERNAL_TYPE.get(internal or "")
    if kind is not None:
        return kind
    field_class = _class_path(type(field))
    label = f"{field.model._meta.label}.{field.name} ({field_class})"
    if label not in _warned:
        _warned.add(label)
        logger.warning("api_graphql: no GraphQL mapping for field %s; exposed as String "
                       "(its value_to_string)", label)
    return UNKNOWN
