"""The last step of every response: the body as JSON, and nothing else.

The reader encodes each value by its field (field_types.encoder), so this rarely has
work to do; it is the boundary that makes sure a value of a kind nobody foresaw (a
Decimal inside a JSON document, a lazy translation, a library's object) becomes text
or a GraphQL error, never an HTML 500 or a dead subscription.
"""

from __future__ import annotations

import decimal
import logging
from typing import Any

import orjson
from django.utils.functional import Promise

logger = logging.getLogger(__name__)

ENCODING_FAILED = "A value of the response could not be encoded."


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Promise):  # a lazy translation
        return str(value)
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__} is not JSON")


def dumps(body: Any) -> bytes:
    """``body`` as JSON; raises TypeError only for a value no rule covers."""
    return orjson.dumps(body, default=_default)


def encoding_error(path: list[str | int] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": ENCODING_FAILED,
                             "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    if path:
        error["path"] = path
    return error


def dumps_or_error(body: dict[str, Any]) -> bytes:
    """``body`` as JSON, or (logged) a GraphQL error in its place: data is null."""
    try:
        return dumps(body)
    except TypeError:
        logger.exception("api_graphql: %s", ENCODING_FAILED)
        return orjson.dumps({"data": None,
                             "errors": [*body.get("errors", ()), encoding_error()]})
