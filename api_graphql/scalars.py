"""The custom scalars of the schema and how each crosses the wire.

Every scalar accepts both the Python value and its wire form when serializing, so
values already converted by the reader pass through unchanged.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any, NewType

import strawberry
from django.utils import dateparse
from django.utils.duration import duration_iso_string

DateTime = NewType("DateTime", str)
Date = NewType("Date", str)
Time = NewType("Time", str)
Decimal = NewType("Decimal", str)
UUID = NewType("UUID", str)
Duration = NewType("Duration", str)
Base64 = NewType("Base64", str)
BigInt = NewType("BigInt", str)
JSON = NewType("JSON", object)


def _wire(convert: Callable[[Any], Any], wire_type: type = str) -> Callable[[Any], Any]:
    def serialize(value: Any) -> Any:
        return value if isinstance(value, wire_type) else convert(value)

    return serialize


def datetime_to_wire(value: datetime.datetime) -> str:
    return value.isoformat()


def date_to_wire(value: datetime.date) -> str:
    return value.isoformat()


def time_to_wire(value: datetime.time) -> str:
    return value.isoformat()


def decimal_to_wire(value: decimal.Decimal) -> str:
    return str(value)


def duration_to_wire(value: datetime.timedelta) -> str:
    return duration_iso_string(value)


def bytes_to_wire(value: bytes | memoryview) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _iso_parser(name: str, parse: Callable[[str], Any], example: str) -> Callable[[Any], Any]:
    """Input for an ISO 8601 scalar, with an error that shows the expected form."""

    def parser(value: Any) -> Any:
        parsed = parse(value) if isinstance(value, str) else None
        if parsed is None:
            raise ValueError(f"{name} cannot represent {value!r}: use ISO 8601, e.g. {example}")
        return parsed

    return parser


_parse_datetime = _iso_parser("DateTime", dateparse.parse_datetime, "2024-01-31T12:00:00Z")
_parse_date = _iso_parser("Date", dateparse.parse_date, "2024-01-31")
_parse_time = _iso_parser("Time", dateparse.parse_time, "13:45:00")
_parse_duration = _iso_parser("Duration", dateparse.parse_duration, "P1DT2H")


def _parse_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"Decimal cannot represent {value!r}")
    try:
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise ValueError(f"Decimal cannot represent {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"Decimal cannot represent {value!r}")
    return result


def _parse_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"UUID cannot represent {value!r}") from None


def _parse_base64(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Base64 cannot represent the given value") from None


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"BigInt cannot represent {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"BigInt cannot represent {value!r}") from None


SCALAR_MAP = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="An ISO 8601 date and time with offset.",
        serialize=_wire(datetime_to_wire),
        parse_value=_parse_datetime,
    ),
    Date: strawberry.scalar(
        name="Date", description="An ISO 8601 date.",
        serialize=_wire(date_to_wire), parse_value=_parse_date,
    ),
    Time: strawberry.scalar(
        name="Time", description="An ISO 8601 time.",
        serialize=_wire(time_to_wire), parse_value=_parse_time,
    ),
    Decimal: strawberry.scalar(
        name="Decimal", description="A decimal number, as a string to keep its precision.",
        serialize=_wire(decimal_to_wire), parse_value=_parse_decimal,
    ),
    UUID: strawberry.scalar(
        name="UUID", serialize=_wire(str), parse_value=_parse_uuid,
    ),
    Duration: strawberry.scalar(
        name="Duration", description="An ISO 8601 duration, e.g. P1DT2H30M.",
        serialize=_wire(duration_to_wire), parse_value=_parse_duration,
    ),
    Base64: strawberry.scalar(
        name="Base64", description="Binary data, base64-encoded.",
        serialize=_wire(bytes_to_wire), parse_value=_parse_base64,
    ),
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit integer, as a string because JavaScript numbers stop at 2^53.",
        serialize=_wire(str), parse_value=_parse_bigint,
    ),
    JSON: strawberry.scalar(
        name="JSON", description="Any JSON value.",
        serialize=lambda value: value, parse_value=lambda value: value,
    ),
}
