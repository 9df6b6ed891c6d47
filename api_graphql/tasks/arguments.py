"""A task's GraphQL arguments, read from its function's signature and annotations.

Only types that survive Celery's JSON messages both ways are mapped; anything else
is a start-up error naming the task and the argument, never a silent ``String``.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from api_graphql import scalars
from api_graphql.type_factory import REQUIRED

_SCALARS: dict[Any, Any] = {
    int: int,
    str: str,
    float: float,
    bool: bool,
    decimal.Decimal: scalars.Decimal,
    datetime.datetime: scalars.DateTime,
    datetime.date: scalars.Date,
    uuid.UUID: scalars.UUID,
    dict: scalars.JSON,
    Any: scalars.JSON,
}
MAPPED = "int, str, float, bool, Decimal, date, datetime, UUID, dict, Any, list[...] of these"


@dataclass(frozen=True)
class TaskArgument:
    name: str
    annotation: Any
    default: Any


def recordable(value: Any) -> Any:
    """A coerced argument as the run record's JSON keeps it. (The task itself gets the
    typed value: kombu's JSON carries dates, decimals and UUIDs both ways.)"""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [recordable(v) for v in value]
    return value


def _graphql_annotation(annotation: Any) -> Any | None:
    """The GraphQL annotation of a Python one, or None when it has no mapping."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1 or len(typing.get_args(annotation)) != 2:
            return None
        inner = _graphql_annotation(members[0])
        return None if inner is None else inner | None
    if origin is list:
        (item,) = typing.get_args(annotation) or (None,)
        inner = _graphql_annotation(item) if item is not None else None
        return None if inner is None else list[inner]  # type: ignore[valid-type]
    if origin is dict:
        return scalars.JSON
    try:
        return _SCALARS.get(annotation)
    except TypeError:  # unhashable annotations
        return None


def task_arguments(task_name: str, function: Callable[..., Any]) -> list[TaskArgument]:
    """The arguments of ``function`` (a bound task's ``run``: no ``self``)."""
    try:
        hints = typing.get_type_hints(function)
    except Exception as error:
        raise ImproperlyConfigured(
            f"Task {task_name}: its annotations cannot be resolved ({error})."
        ) from error
    result = []
    for parameter in inspect.signature(function).parameters.values():
        where = f"Task {task_name}, argument {parameter.name!r}"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ImproperlyConfigured(
                f"{where}: *args and **kwargs cannot become GraphQL arguments; name them.")
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise ImproperlyConfigured(f"{where}: positional-only arguments have no name "
                                       "to send; make it a normal argument.")
        if parameter.name not in hints:
            raise ImproperlyConfigured(f"{where}: needs a type annotation ({MAPPED}).")
        annotation = _graphql_annotation(hints[parameter.name])
        if annotation is None:
            raise ImproperlyConfigured(
                f"{where}: type {hints[parameter.name]!r} cannot be a GraphQL argument "
                f"(supported: {MAPPED}; optional as X | None).")
        default = parameter.default
        if default is not parameter.empty:
            # GraphQL reads a missing argument as its default; None needs a nullable type.
            if default is None:
                annotation = annotation | None
        else:
            default = REQUIRED
        result.append(TaskArgument(parameter.name, annotation, default))
    return result
