"""Scopes: custom manager and QuerySet methods as chainable, typed filters.

Configured beside the app, the manager untouched::

    @api_graphql.register(Article)
    class ArticleConfig(api_graphql.ModelConfig):
        scopes = ["published", "by_author"]    # ArticleQuerySet methods

``article_list(scopes: [{published: true}, {by_author: {user: "3"}}], filters: ...)``
runs ``Article.objects.published().by_author(user)``, then the filters, and the
caller's row rules on top: a scope narrows what a user sees, it never widens it.
Arguments are typed from the method's annotations (``signatures``); a model argument
takes a primary key, looked up among the rows the caller may read. A method only the
manager has (not its QuerySet) cannot be chained: its rows are intersected instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import QuerySet

from api_graphql import type_factory
from api_graphql.errors import GraphQLUserError
from api_graphql.naming import pascal_case
from api_graphql.signatures import Argument, arguments, call_arguments

if TYPE_CHECKING:
    from api_graphql.model_graph import ModelGraph, ModelSpec
    from api_graphql.permissions import Scope

logger = logging.getLogger(__name__)

#: Scopes one read may chain.
MAX_SCOPES = 10


@dataclass
class ScopeSpec:
    name: str
    #: True: a method of the manager's QuerySet (chainable); False: of the manager only.
    chainable: bool
    arguments: dict[str, Argument] = field(default_factory=dict)
    description: str | None = None


def scope_input_name(spec: ModelSpec) -> str:
    return f"{spec.type_name}Scope"


def scope_arguments_name(spec: ModelSpec, scope: ScopeSpec) -> str:
    return f"{spec.type_name}Scope{pascal_case(scope.name)}"


def scope_specs(spec: ModelSpec, graph: ModelGraph) -> dict[str, ScopeSpec]:
    """The scopes ``spec``'s config names; start-up errors say why one cannot be."""
    manager = spec.model._default_manager
    queryset_class = getattr(manager, "_queryset_class", QuerySet)
    result: dict[str, ScopeSpec] = {}
    for name in spec.config.scopes:
        where = f"{spec.model._meta.label}.objects.{name}"
        if name.startswith("_") or hasattr(QuerySet, name):
            raise ImproperlyConfigured(
                f"{where}: only the project's own manager or QuerySet methods can be scopes.")
        method = getattr(queryset_class, name, None)
        chainable = callable(method)
        if not chainable:
            method = getattr(type(manager), name, None)
        if not callable(method):
            raise ImproperlyConfigured(
                f"{where} (in ModelConfig.scopes) is not a method of the default manager "
                "or its QuerySet.")
        doc = (getattr(method, "__doc__", None) or "").strip().split("\n")[0] or None
        result[name] = ScopeSpec(name, chainable, arguments(method, where, graph), doc)
    return result


def build_scope_input(spec: ModelSpec) -> None:
    """``ArticleScope``: one scope per item (``{published: true}``, ``{by_author: {...}}``)."""
    if not spec.scopes:
        return
    fields: dict[str, Any] = {}
    for scope in spec.scopes.values():
        if scope.arguments:
            args = {a.name: (a.type.annotation if a.required else a.type.annotation | None,
                             a.required) for a in scope.arguments.values()}
            name = scope_arguments_name(spec, scope)
            type_factory.required_input_type(
                name, args, description=f"The arguments of {spec.model.__name__}.objects."
                                        f"{scope.name}().")
            fields[scope.name] = type_factory.ref(name) | None
        else:
            fields[scope.name] = bool | None
    type_factory.input_type(
        scope_input_name(spec), fields,
        f"One method of {spec.model.__name__}.objects, applied in list order before the "
        "filters (true runs a method without arguments).",
        one_of=True,
    )


def scope_argument(spec: ModelSpec) -> dict[str, tuple[Any, Any]]:
    """The ``scopes`` argument of a root read, for models that have scopes."""
    if not spec.scopes:
        return {}
    from strawberry.types.unset import UNSET

    return {"scopes": (type_factory.list_of(type_factory.ref(scope_input_name(spec))) | None,
                       UNSET)}


def apply_scopes(spec: ModelSpec, items: list[dict[str, Any]] | None,
                 scope: Scope) -> QuerySet | None:
    """``Model.objects.a().b(...)`` for the items of a ``scopes`` argument (None: none)."""
    if not items:
        return None
    if len(items) > MAX_SCOPES:
        raise GraphQLUserError(f"At most {MAX_SCOPES} scopes per read.")
    manager = spec.model._default_manager
    qs: QuerySet = manager.all()
    for item in items:
        entries = [(key, value) for key, value in item.items() if value is not None]
        if len(entries) != 1:
            raise GraphQLUserError(f"Each {scope_input_name(spec)} item names exactly one scope.")
        name, value = entries[0]
        scope_spec = spec.scopes.get(name)
        if scope_spec is None:
            raise GraphQLUserError(f"{spec.type_name} has no scope '{name}'.")
        if value is False:
            continue
        where = f"{spec.model.__name__}.objects.{name}()"
        kwargs = call_arguments(scope_spec.arguments, value if isinstance(value, dict) else {},
                                scope, where)
        try:
            if scope_spec.chainable:
                result = getattr(qs, name)(**kwargs)
            else:
                result = getattr(manager, name)(**kwargs)
        except ValidationError as error:
            raise GraphQLUserError(f"{where} refused: {'; '.join(error.messages)}") from None
        except Exception as error:
            logger.exception("api_graphql: %s raised", where)
            raise GraphQLUserError(f"{where} failed ({type(error).__name__}).") from error
        if not isinstance(result, QuerySet) or result.model is not spec.model:
            logger.error("api_graphql: %s returned %r, not a QuerySet of %s", where,
                         type(result), spec.model._meta.label)
            raise GraphQLUserError(f"{where} did not return {spec.type_name} rows.")
        if result.query.is_sliced or result.query.combinator:
            raise GraphQLUserError(f"{where} returned a sliced or combined QuerySet, which "
                                   "cannot be filtered further.")
        qs = result if scope_spec.chainable else qs.filter(pk__in=result.values("pk"))
    return qs
