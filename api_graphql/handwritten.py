"""Hand-written Strawberry and strawberry-django parts, merged into the derived schema.

A team already on strawberry-django keeps what it wrote. Its ``@strawberry.type``
query and mutation classes are registered beside the app, in ``graphql.py``::

    import strawberry, strawberry_django
    import api_graphql

    @api_graphql.register_query
    class BlogQuery:
        @strawberry.field
        def trending_articles(self, info: strawberry.Info,
                              limit: int = 5) -> list[api_graphql.model_type(Article)]:
            return Article.objects.annotate(n=Count("comment")).order_by("-n")[:limit]

Their fields join the derived ``Query`` / ``Mutation`` (strawberry's own
``merge_types``); a field named like a derived one fails the build with
:class:`~api_graphql.type_factory.NameTaken`, as does a hand-written type named
like a derived type.

What a hand-written field returns goes through the same permissions as the derived
fields, whatever the resolver did:

* a field typed ``model_type(Model)`` (or a list of it) may return instances, a list
  of them or a QuerySet: the rows are read again by the reader (``reader.py``), from
  :meth:`Scope.readable`, with the selection of the document. A row the user may not
  read is left out (``null`` for one object), a QuerySet is narrowed before its slice
  is taken (``[:5]`` gives the first five the user may read), and the type has no
  hidden or secret field to ask for. The read takes the reader's fixed number of
  queries, as ``<model>_list`` does.
* a field typed as a ``strawberry_django.type(Model)`` of an exposed model is narrowed
  the same way (rows the user may not read are left out); such a type may not
  declare a field the model's config hides, nor a secret one (a build error).

``requires("app.codename")`` is a Strawberry permission class for hand-written fields
that asks Django's ``has_perms`` for the caller as the API knows it.

Errors are those of the derived fields (``execution.py``): a ``GraphQLUserError``
keeps its code, Django's ``PermissionDenied`` is FORBIDDEN, a ``ValidationError``
BAD_USER_INPUT with its messages, anything else is logged and answered as
"Internal server error." (no exception text leaves the server). The document limits
(depth, aliases, complexity) are checked on the whole document before any resolver
runs, hand-written fields included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    default_field_resolver,
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_non_null_type,
)
from strawberry.permission import BasePermission
from strawberry.tools import merge_types

from api_graphql import secrets, type_factory
from api_graphql.errors import PermissionDenied

if TYPE_CHECKING:
    from api_graphql.context import RequestContext
    from api_graphql.model_graph import ModelGraph, ModelSpec
    from api_graphql.permissions import Scope


def _alias(label: str) -> str:
    """The name a model's derived type is also published under (an identifier, as a
    forward reference must be; no GraphQL type is named like it)."""
    return "_model_" + label.replace(".", "__")


def model_type(model: type[models.Model]) -> Any:
    """The derived object type of ``model``, for annotations of hand-written fields.

    Lazy: the derived types are built with the schema, after every ``graphql.py`` was
    imported, so the annotation names the model and resolves when the schema is built
    (to ``Article``, or whatever name docs/NAMING.md gives the model).
    """
    return Annotated[_alias(model._meta.label_lower), strawberry.lazy(type_factory.MODULE_NAME)]


def requires(*permissions: str) -> type[BasePermission]:
    """A Strawberry permission class: the caller must hold every Django permission named
    (``"app.codename"``), as ``user.has_perm`` answers; FORBIDDEN otherwise::

        @strawberry.mutation(permission_classes=[api_graphql.requires("blog.change_article")])

    It reads the caller as the API knows it (session, bearer token or the socket's
    ``connection_init``); strawberry_django's own ``HasPerm`` reads the HTTP request's
    session user instead, which is not the caller of a bearer-token or WebSocket request.
    """
    names = ", ".join(permissions)

    class Requires(BasePermission):
        message = f"You do not have the permission {names}."
        error_extensions = {"code": "FORBIDDEN"}

        def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
            user = getattr(info.context, "user", None)
            return bool(user is not None and getattr(user, "is_active", False)
                        and user.has_perms(permissions))

    Requires.__name__ = Requires.__qualname__ = f"Requires({names})"
    return Requires


def publish_model_types(graph: ModelGraph) -> None:
    """Make every derived type reachable through :func:`model_type`'s alias."""
    for spec in graph:
        type_factory.alias(_alias(spec.label), spec.type_name)


def merged_root(name: str, derived: type | None, classes: Iterable[type],
                derived_names: Iterable[str]) -> type | None:
    """The root type ``name``: the derived fields, then every hand-written class's."""
    classes = list(classes)
    if not classes:
        return derived
    taken = {f"{name}.{n}": "the derived schema" for n in derived_names}
    for cls in classes:
        definition = getattr(cls, "__strawberry_definition__", None)
        if definition is None:
            raise ImproperlyConfigured(
                f"{cls.__module__}.{cls.__qualname__} is registered as a {name} but is not a "
                "@strawberry.type class.")
        for field in definition.fields:
            where = f"{name}.{field.graphql_name or field.python_name}"
            owner = f"{cls.__module__}.{cls.__qualname__}"
            if where in taken:
                raise type_factory.NameTaken(
                    f"the root field {where} of {owner} is already defined by {taken[where]}; "
                    "rename it (the derived names are in docs/NAMING.md)")
            taken[where] = owner
    bases = tuple(classes) if derived is None else (derived, *classes)
    return merge_types(name, bases)


def check_types(classes: Iterable[type], generated: set[str]) -> None:
    """Refuse, with a message that says what to change: a hand-written type named like
    a derived one (strawberry would only say that a name is defined twice), and
    ``model_type`` of a model the schema does not expose."""
    from strawberry.types.lazy_type import LazyType

    classes = list(classes)
    for cls, field, kind in _fields(classes):
        where = f"{cls.__module__}.{cls.__qualname__}.{field.python_name}"
        if (isinstance(kind, LazyType) and kind.module == type_factory.MODULE_NAME
                and kind.type_name not in generated):
            label = kind.type_name.removeprefix("_model_").replace("__", ".")
            raise ImproperlyConfigured(
                f"{where}: model_type() of {label}, which the schema does not expose "
                "(see API_GRAPHQL['EXCLUDE'] and the registry)")
    for cls, _field, _kind in _fields(classes):
        name = cls.__strawberry_definition__.name  # type: ignore[attr-defined]
        if cls not in classes and name in generated:
            raise type_factory.NameTaken(
                f"the hand-written type {name!r} takes a name the derived schema uses; pin "
                "another with @strawberry.type(name=...) or ModelConfig.type_name "
                "(docs/NAMING.md)")


def _fields(classes: Iterable[type]) -> Iterator[tuple[type, Any, Any]]:
    """Every field of every Strawberry type reachable from ``classes`` (not through
    lazy references), with its type unwrapped from lists and optionals."""
    from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition

    stack, visited = list(classes), set()
    while stack:
        cls = stack.pop()
        if cls in visited:
            continue
        visited.add(cls)
        for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            kind: Any = field.type
            while isinstance(kind, StrawberryList | StrawberryOptional):
                kind = kind.of_type
            yield cls, field, kind
            if not isinstance(kind, type) or not has_object_definition(kind):
                continue
            stack.append(kind)


# -- results of hand-written fields -------------------------------------------------
def guard_results(schema: GraphQLSchema, graph: ModelGraph, derived_types: set[str],
                  derived_root_fields: dict[str, set[str]]) -> None:
    """Wrap every hand-written field that returns model rows so that the user's read
    rules apply to what it returns (see the module docstring)."""
    by_type_name = {spec.type_name: spec for spec in graph}
    by_model = graph.by_model
    roots = {schema.query_type: "query", schema.mutation_type: "mutation"}
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        operation = roots.get(graphql_type)
        if operation is None and graphql_type.name in derived_types:
            continue
        for field_name, field in graphql_type.fields.items():
            if operation is not None and field_name in derived_root_fields[operation]:
                continue
            target = get_named_type(field.type)
            spec = by_type_name.get(target.name) if target.name in derived_types else None
            if spec is not None:
                _wrap(field, spec, _read_derived, f"{graphql_type.name}.{field_name}")
                continue
            model = _django_model(target)
            if model is not None and model in by_model:
                _wrap(field, by_model[model], _narrow_instances,
                      f"{graphql_type.name}.{field_name}")


def _django_model(graphql_type: Any) -> type[models.Model] | None:
    """The model of a ``strawberry_django.type``, from the Strawberry definition."""
    definition = (graphql_type.extensions or {}).get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    django_definition = getattr(origin, "__strawberry_django_definition__", None)
    return getattr(django_definition, "model", None)


def _wrap(field: GraphQLField, spec: ModelSpec, narrow: Callable[..., Any], where: str) -> None:
    resolve = field.resolve or default_field_resolver
    nullable = get_nullable_type(field.type)
    many = is_list_type(nullable)
    required = is_non_null_type(field.type)

    def guarded(source: Any, info: Any, **kwargs: Any) -> Any:
        value = resolve(source, info, **kwargs)
        if value is None:
            return None
        result = narrow(info, spec, value, many, where)
        if result is None and required:
            raise PermissionDenied(f"{where}: the object is not readable by this user.")
        return result

    field.resolve = guarded


def _context(info: Any, where: str) -> RequestContext:
    from api_graphql.context import RequestContext

    context = info.context
    if not isinstance(context, RequestContext):
        raise TypeError(f"{where} ran outside the API's request context")
    return context


def _check_model(spec: ModelSpec, model: Any, where: str) -> None:
    if not (isinstance(model, type) and issubclass(model, spec.model)):
        name = getattr(model, "__name__", type(model).__name__)
        raise TypeError(f"{where} is typed {spec.type_name} but returned {name}")


def _pks(spec: ModelSpec, value: Any, where: str) -> list[Any]:
    if isinstance(value, models.Model):
        value = [value]
    pks = []
    for item in value:
        _check_model(spec, type(item), where)
        pks.append(item.pk)
    return pks


def narrowed(scope: Scope, spec: ModelSpec, qs: QuerySet) -> QuerySet | None:
    """``qs`` with the user's read rule applied before its slice: ``[:5]`` of a
    narrowed QuerySet is the first five rows the user may read."""
    from api_graphql.reader import restrict

    rule = scope.read_rule(spec)
    if rule is False:
        return None
    if rule is True:
        return qs
    if qs.query.combinator:  # union() and friends take no filter: go by primary key
        readable = scope.readable(spec)
        assert readable is not None
        return readable.filter(pk__in=list(qs.values_list("pk", flat=True)))
    low, high = qs.query.low_mark, qs.query.high_mark
    unsliced = qs.all()
    unsliced.query.clear_limits()
    result = restrict(unsliced, rule)
    result.query.set_limits(low, high)
    return result


def _read_derived(info: Any, spec: ModelSpec, value: Any, many: bool, where: str) -> Any:
    """Rows for a derived type: the reader's dicts, read from what the user may see."""
    from api_graphql.root_fields import selection_from_resolve_info

    if isinstance(value, dict) or (many and all(isinstance(v, dict) for v in value)):
        return value  # already read by the reader (a derived handler's answer)
    context = _context(info, where)
    children = selection_from_resolve_info(info).children or {}
    reader = context.reader
    if isinstance(value, QuerySet):
        _check_model(spec, value.model, where)
        qs = narrowed(context.scope, spec, value)
        if qs is None:
            return [] if many else None
        nodes = reader.nodes(spec, qs if many else qs[:1], children).nodes
        return nodes if many else (nodes[0] if nodes else None)
    pks = _pks(spec, value, where)
    readable = context.scope.readable(spec)
    if readable is None:
        return [] if many else None
    key = spec.pk.attname
    found = reader.nodes(spec, readable.filter(pk__in=pks), children, extra=[key]).keyed(key)
    nodes = [found[pk] for pk in pks if pk in found]
    return nodes if many else (nodes[0] if nodes else None)


def _narrow_instances(info: Any, spec: ModelSpec, value: Any, many: bool, where: str) -> Any:
    """Instances for a strawberry_django type: only those the user may read."""
    context = _context(info, where)
    if isinstance(value, QuerySet):
        _check_model(spec, value.model, where)
        qs = narrowed(context.scope, spec, value)
        if qs is None:
            return [] if many else None
        return qs if many else qs.first()
    items = [value] if isinstance(value, models.Model) else list(value)
    pks = _pks(spec, items, where)
    readable = context.scope.readable(spec)
    allowed = set() if readable is None else set(
        readable.filter(pk__in=pks).values_list("pk", flat=True))
    kept = [item for item in items if item.pk in allowed]
    return kept if many else (kept[0] if kept else None)


# -- strawberry_django types ---------------------------------------------------------
def check_django_types(classes: Iterable[type], graph: ModelGraph) -> None:
    """A hand-written strawberry_django type may not show what the derived schema hides:
    a field the model's config excludes, or a secret one."""
    for cls, field, _kind in _fields(classes):
        django_definition = getattr(cls, "__strawberry_django_definition__", None)
        if django_definition is not None:
            _check_django_field(cls, django_definition.model, field, graph)


def _check_django_field(cls: type, model: type[models.Model], field: Any,
                        graph: ModelGraph) -> None:
    name = getattr(field, "django_name", None) or field.python_name
    if getattr(field, "base_resolver", None) is not None:
        return  # a resolver of the team's own: it decides what it reads
    try:
        django_field = model._meta.get_field(name)
    except Exception:
        return  # a property or attribute, not a column
    where = f"{cls.__module__}.{cls.__qualname__}.{field.python_name}"
    spec = graph.by_model.get(model)
    revealed = spec.config.not_secret if spec is not None else ()
    if secrets.is_secret(model, name, django_field, revealed):
        raise ImproperlyConfigured(
            f"{where} exposes {model._meta.label}.{name}, which looks secret; it never "
            "leaves the server (ModelConfig.not_secret names fields that only look secret)")
    exposed = {f.django_field.name for f in spec.fields.values()} | {
        getattr(r.django_field, "name", r.name) for r in spec.relations.values()
    } if spec is not None else set()
    if spec is not None and name not in exposed:
        raise ImproperlyConfigured(
            f"{where} exposes {model._meta.label}.{name}, which "
            f"{type(spec.config).__name__} hides; expose it in the config or drop the field")
