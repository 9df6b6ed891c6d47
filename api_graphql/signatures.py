"""Python signatures as GraphQL fields: what a model method takes and returns.

Computed fields, scopes and actions all expose project code (a property, a QuerySet
method, a model method) whose GraphQL types come from its annotations. This module
reads them once, when the schema is built, and refuses what it cannot type with an
``ImproperlyConfigured`` that names the method, so a mistake shows at start-up.

Arguments annotated with an exposed model (``def by_author(self, user: User)``) take
that model's primary key; the object is looked up among the rows the caller may read,
so an argument is never a way to reach a row the caller could not see.
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
from typing import TYPE_CHECKING, Any

import strawberry
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from strawberry.types.unset import UNSET

from api_graphql import field_types, type_factory
from api_graphql.errors import GraphQLUserError
from api_graphql.field_types import ScalarKind
from api_graphql.type_factory import REQUIRED

if TYPE_CHECKING:
    from api_graphql.model_graph import ModelGraph
    from api_graphql.permissions import Scope

#: Python annotation -> the scalar it crosses the wire as.
PYTHON_KINDS: dict[Any, ScalarKind] = {
    bool: field_types.BOOLEAN,
    int: field_types.INT,
    float: field_types.FLOAT,
    str: field_types.STRING,
    decimal.Decimal: field_types.DECIMAL,
    datetime.datetime: field_types.DATETIME,
    datetime.date: field_types.DATE,
    datetime.time: field_types.TIME,
    datetime.timedelta: field_types.DURATION,
    uuid.UUID: field_types.UUID,
    dict: field_types.JSON,
}


@dataclass(frozen=True)
class ValueType:
    """One annotation as GraphQL sees it: a scalar, maybe nullable, maybe a list."""

    kind: ScalarKind
    nullable: bool
    many: bool = False
    #: For arguments: the exposed model whose primary key the argument takes.
    model: type[models.Model] | None = None

    @property
    def annotation(self) -> Any:
        item: Any = strawberry.ID if self.model is not None else self.kind.annotation
        value = type_factory.list_of(item) if self.many else item
        return value | None if self.nullable else value

    @property
    def graphql_type(self) -> str:
        """The GraphQL spelling (``Int!``, ``[String!]``), for the client manifest."""
        name = "ID" if self.model is not None else self.kind.name
        inner = f"[{name}!]" if self.many else name
        return inner if self.nullable else f"{inner}!"

    def to_wire(self, value: Any) -> Any:
        if value is None:
            return None
        convert = self.kind.to_wire
        if self.many:
            return [v if convert is None or v is None else convert(v) for v in value]
        return value if convert is None else convert(value)


def _hints(function: Callable[..., Any], where: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception as error:
        raise ImproperlyConfigured(f"{where}: its annotations cannot be read ({error}).") from None


def value_type(annotation: Any, where: str, graph: ModelGraph | None = None) -> ValueType:
    """The GraphQL type of a Python annotation, or a start-up error saying why not."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise ImproperlyConfigured(f"{where}: a union of {members} has no GraphQL type.")
        nullable = True
        annotation = members[0]
        origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if len(args) != 1:
            raise ImproperlyConfigured(f"{where}: annotate the items, e.g. list[str].")
        item = value_type(args[0], where, graph)
        if item.many:
            raise ImproperlyConfigured(f"{where}: lists of lists are not supported.")
        return ValueType(item.kind, nullable, many=True, model=item.model)
    if origin is dict:
        return ValueType(field_types.JSON, nullable)
    if isinstance(annotation, type) and issubclass(annotation, models.Model):
        if graph is None or graph.get(annotation) is None:
            raise ImproperlyConfigured(
                f"{where}: {annotation._meta.label} is not exposed, so it cannot be an argument.")
        return ValueType(graph.spec_for(annotation).pk.kind, nullable, model=annotation)
    kind = PYTHON_KINDS.get(annotation)
    if kind is None:
        raise ImproperlyConfigured(
            f"{where}: {annotation!r} has no GraphQL type (use bool, int, float, str, Decimal, "
            "datetime, date, time, timedelta, UUID, dict, their lists or | None).")
    return ValueType(kind, nullable)


def return_type(function: Callable[..., Any], where: str) -> ValueType:
    hints = _hints(function, where)
    if "return" not in hints:
        raise ImproperlyConfigured(
            f"{where} has no return annotation: api_graphql types the field from it "
            "(e.g. '-> int').")
    if hints["return"] is type(None):
        raise ImproperlyConfigured(f"{where} returns None: there is nothing to expose.")
    return value_type(hints["return"], f"{where} return annotation")


@dataclass(frozen=True)
class Argument:
    name: str
    type: ValueType
    default: Any

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def arguments(function: Callable[..., Any], where: str, graph: ModelGraph,
              skip: int = 1) -> dict[str, Argument]:
    """The typed parameters of ``function`` after the first ``skip`` (``self``)."""
    hints = _hints(function, where)
    params = list(inspect.signature(function).parameters.values())[skip:]
    result: dict[str, Argument] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ImproperlyConfigured(
                f"{where}: parameter {param.name!r} must be a plain named parameter.")
        if param.name not in hints:
            raise ImproperlyConfigured(f"{where}: parameter {param.name!r} has no annotation.")
        kind = value_type(hints[param.name], f"{where} parameter {param.name!r}", graph)
        default = REQUIRED if param.default is param.empty else param.default
        if default is None and not kind.nullable:
            kind = ValueType(kind.kind, True, kind.many, kind.model)
        result[param.name] = Argument(param.name, kind, default)
    return result


def graphql_arguments(args: dict[str, Argument]) -> dict[str, tuple[Any, Any]]:
    """``type_factory`` argument specs: a parameter with a default is optional (a plain
    default shows in the schema, ``summary(words: Int! = 30)``)."""
    result: dict[str, tuple[Any, Any]] = {}
    for arg in args.values():
        if arg.required:
            result[arg.name] = (arg.type.annotation, REQUIRED)
        elif isinstance(arg.default, bool | int | float | str) and arg.type.model is None \
                and not arg.type.many:
            result[arg.name] = (arg.type.annotation, arg.default)
        else:
            optional = arg.type.annotation if arg.type.nullable else arg.type.annotation | None
            result[arg.name] = (optional, UNSET)
    return result


def manifest_arguments(args: dict[str, Argument]) -> dict[str, Any]:
    return {
        arg.name: {
            "graphql_type": arg.type.graphql_type,
            "required": arg.required,
            "model": arg.type.model._meta.label_lower if arg.type.model else None,
        }
        for arg in args.values()
    }


def call_arguments(args: dict[str, Argument], given: dict[str, Any], scope: Scope,
                   where: str) -> dict[str, Any]:
    """The keyword arguments of one call: defaults kept, model arguments looked up
    among the rows the caller may read."""
    result: dict[str, Any] = {}
    for name, arg in args.items():
        value = given.get(name, UNSET)
        if value is UNSET:
            if arg.required:
                raise GraphQLUserError(f"{where} needs the argument '{name}'.")
            continue
        model = arg.type.model
        if model is not None and value is not None:
            keys = value if arg.type.many else [value]
            found = [_readable_object(model, key, scope, where, name) for key in keys]
            value = found if arg.type.many else found[0]
        result[name] = value
    return result


def _readable_object(model: type[models.Model], key: Any, scope: Scope, where: str,
                     name: str) -> models.Model:
    graph = scope.graph
    spec = graph.spec_for(model)
    readable = scope.readable(spec)
    try:
        pk = spec.pk.django_field.to_python(key)
        found = None if readable is None else readable.filter(pk=pk).first()
    except Exception:
        found = None
    if found is None:
        raise GraphQLUserError(
            f"{where}: argument '{name}': {spec.type_name} {key} does not exist.")
    return found
