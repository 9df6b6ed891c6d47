"""Offset pagination with a bounded page size, and keyset cursors for connections.

Every list returns at most ``DEFAULT_PAGE_SIZE`` items unless ``limit`` asks for
more, up to ``MAX_PAGE_SIZE``. Connections page by keyset (the sort values of
the last row), so a page deep into a large table costs the same as the first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import functools
import operator
import uuid
from typing import Any

import orjson
from django.db.models import F, OrderBy, Q

from api_graphql.conf import graphql_settings
from api_graphql.errors import GraphQLUserError


def page_bounds(args: dict[str, Any]) -> tuple[int, int]:
    """(offset, limit) from list arguments, refusing what the limits forbid."""
    conf = graphql_settings()
    offset = args.get("offset")
    limit = args.get("limit")
    offset = 0 if offset is None else offset
    limit = conf.default_page_size if limit is None else limit
    if offset < 0:
        raise GraphQLUserError("offset must not be negative.")
    if limit < 0 or limit > conf.max_page_size:
        raise GraphQLUserError(f"limit must be between 0 and {conf.max_page_size}.")
    return offset, limit


def connection_size(args: dict[str, Any]) -> int:
    conf = graphql_settings()
    first = args.get("first")
    first = conf.default_page_size if first is None else first
    if first < 0 or first > conf.max_page_size:
        raise GraphQLUserError(f"first must be between 0 and {conf.max_page_size}.")
    return first


def keyset_ordering(ordering: list[OrderBy]) -> list[OrderBy]:
    """The same keys with nulls sorted as the greatest value, whatever the database."""
    result = []
    for order in ordering:
        expression = order.expression
        if not isinstance(expression, F):
            raise GraphQLUserError("Connections can only be ordered by fields.")
        result.append(
            expression.desc(nulls_first=True) if order.descending
            else expression.asc(nulls_last=True)
        )
    return result


def _encodable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return {"t": type(value).__name__, "v": value.isoformat()}
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return {"t": type(value).__name__, "v": str(value)}
    if isinstance(value, datetime.timedelta):
        return {"t": "timedelta", "v": value.total_seconds()}
    return value


_DECODERS: dict[str, Any] = {
    "datetime": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
    "Decimal": decimal.Decimal,
    "UUID": uuid.UUID,
    "timedelta": lambda v: datetime.timedelta(seconds=v),
}


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        return _DECODERS[value["t"]](value["v"])
    return value


def encode_cursor(values: list[Any]) -> str:
    raw = orjson.dumps([_encodable(value) for value in values])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return [_decoded(value) for value in values]
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise GraphQLUserError("Invalid cursor for this ordering.") from None


def after_condition(ordering: list[OrderBy], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``ordering`` (nulls are the greatest)."""
    alternatives = []
    paths = [order.expression.name for order in ordering]  # type: ignore[union-attr]
    for index, order in enumerate(ordering):
        path = paths[index]
        equal_before = [
            Q((f"{p}__isnull", True)) if v is None else Q((p, v))
            for p, v in zip(paths[:index], values[:index], strict=True)
        ]
        value = values[index]
        if order.descending:
            beyond = Q((f"{path}__isnull", False)) if value is None else Q((f"{path}__lt", value))
        else:
            if value is None:
                continue
            beyond = Q((f"{path}__gt", value)) | Q((f"{path}__isnull", True))
        alternatives.append(functools.reduce(operator.and_, equal_before, Q()) & beyond)
    if not alternatives:
        return Q(pk__in=[])
    return functools.reduce(operator.or_, alternatives)
