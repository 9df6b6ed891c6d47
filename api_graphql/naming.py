"""The naming rule of the public contract (see DESIGN.md "Names", docs/NAMING.md).

GraphQL names are Django names. A name, once published, must not change because
another app was installed or removed, so a model's name depends on the model itself,
not on which other models happen to be installed:

1. A name pinned with ``ModelConfig.type_name`` is used as it is (an error at start-up
   if it is taken or not a GraphQL name, never a silent rename).
2. A model of the project's own apps is named after its class: ``Article``.
3. A model of an app installed as a package (its code in site-packages, Django's
   contrib apps included) carries its app label: ``taggit.Tag`` is ``TaggitTag``,
   ``sites.Site`` is ``SitesSite``, the way Django names its table. Installing
   django-taggit beside a project ``Tag`` therefore renames nothing.
4. A name already taken (by our own shared types such as ``File``, by a name another
   model derives such as ``ArticleFilter``, or by an earlier model) is never
   overwritten: the later model takes its app label as a prefix, then a number.
   Earlier means: pinned names, then the project's apps, then packages, each in
   INSTALLED_APPS and model definition order, so appending an app renames nothing.

Root fields derive from the type name in snake case (``TaggitTag`` -> ``taggit_tag``,
``taggit_tag_list`` ...) and take part in the same rule.
"""

from __future__ import annotations

import re
import site
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_NAME = re.compile(r"[^_0-9A-Za-z]")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")

#: Type names of our own, shared by every schema: no model may take them.
RESERVED_TYPE_NAMES = frozenset({
    # GraphQL's and ours scalars, and the per-scalar filter inputs.
    "String", "Int", "Float", "Boolean", "ID", "DateTime", "Date", "Time", "Decimal",
    "UUID", "Duration", "Base64", "BigInt", "JSON", "Upload",
    *(f"{scalar}Filter" for scalar in (
        "String", "Int", "Float", "Boolean", "ID", "DateTime", "Date", "Time", "Decimal",
        "UUID", "Duration", "Base64", "BigInt", "JSON")),
    # Root and shared object types.
    "Query", "Mutation", "Subscription", "File", "Money", "Country", "PageInfo", "Ordering",
    "CurrentUser", "LoginPayload", "TokenPayload", "FieldError", "ManyToManyInput",
    "ObjectReference",
    "ChangeOp", "Node", "Connection", "Edge", "Error",
})

#: Names every model type derives from its own name (``Article`` -> ``ArticleFilter``).
DERIVED_TYPE_SUFFIXES = (
    "Filter", "Order", "Edge", "Connection", "CreateInput", "UpdateInput", "Payload", "Change",
    "Scope", "Aggregate", "Group", "GroupBy", "GroupKey",
    *(f"Aggregate{f}" for f in ("Sum", "Avg", "Min", "Max", "StdDev", "Variance", "CountDistinct")),
)

#: Root fields of our own.
RESERVED_ROOT_NAMES = frozenset({
    "login", "logout", "me", "csrf_token", "token_auth", "refresh_token",
})

#: Root fields every model derives from its root name: ``{}`` is the root name.
DERIVED_ROOT_FIELDS = (
    "{}", "{}_list", "{}_count", "{}_connection", "create_{}", "update_{}", "delete_{}",
    "{}_changes", "{}_aggregate", "{}_group_by",
)

#: Enum values GraphQL forbids.
_RESERVED_ENUM_VALUES = frozenset({"true", "false", "null"})


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def pascal_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


def graphql_name(value: str) -> str:
    """A valid GraphQL name for an arbitrary string (enum members, keys)."""
    name = _NOT_NAME.sub("_", value.strip())
    if not name or name[0].isdigit():
        name = "_" + name
    if name.startswith("__"):  # reserved for introspection
        name = "_" + name.lstrip("_")
    return name


def enum_value_name(value: str) -> str:
    name = graphql_name(value)
    return f"{name}_" if name in _RESERVED_ENUM_VALUES else name


def is_graphql_name(name: str) -> bool:
    return bool(_NAME.match(name)) and not name.startswith("__")


def field_name(name: str | None) -> str | None:
    """The GraphQL field for a Django field or accessor name; None when there is none.

    A related name ending in ``+`` means "no reverse relation" (Django's rule, also used
    for relations it copies to subclasses); it is never a field. Python keywords are
    fine GraphQL names (the generated class spells its attribute differently).
    """
    if not name or name.endswith("+"):
        return None
    return name if is_graphql_name(name) else graphql_name(name)


def enum_type_name(type_name: str, field: str) -> str:
    """``Article.status`` -> ``ArticleStatus``; a field named like a derived type
    (``order``, ``change``) -> ``ArticleOrderChoice``."""
    part = pascal_case(field)
    return f"{type_name}{part}Choice" if part in DERIVED_TYPE_SUFFIXES else f"{type_name}{part}"


def generic_union_name(type_name: str, relation: str) -> str:
    return f"{type_name}{pascal_case(relation)}"


def root_field_base(type_name: str) -> str:
    """``Article`` -> ``article``; ``TaggitTag`` -> ``taggit_tag``."""
    return snake_case(type_name)


def root_names(type_name: str) -> set[str]:
    base = root_field_base(type_name)
    return {pattern.format(base) for pattern in DERIVED_ROOT_FIELDS}


def derived_type_names(type_name: str, model: type[models.Model]) -> set[str]:
    """Every type name a model named ``type_name`` publishes."""
    names = {type_name, *(type_name + suffix for suffix in DERIVED_TYPE_SUFFIXES)}
    for field in model._meta.concrete_fields:
        if field.choices and not field.is_relation:
            enum = enum_type_name(type_name, field.name)
            names |= {enum, f"{enum}Filter"}
    for field in model._meta.private_fields:
        names.add(generic_union_name(type_name, field.name))
    return names


def _package_dirs() -> tuple[Path, ...]:
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    dirs.update(getattr(site, "getsitepackages", list)())
    return tuple(Path(d).resolve() for d in dirs if d)


def is_package_app(model: type[models.Model], project_apps: Iterable[str] = ()) -> bool:
    """Whether a model's app comes from an installed distribution, not the project."""
    if model._meta.app_label in set(project_apps):
        return False
    try:
        path = Path(apps.get_app_config(model._meta.app_label).path)
    except LookupError:  # a model outside INSTALLED_APPS: where its module is
        path = Path(getattr(sys.modules.get(model.__module__), "__file__", None) or ".")
    return any(path.resolve().is_relative_to(d) for d in _package_dirs())


def type_names(
    model_list: Iterable[type[models.Model]],
    pinned: dict[type[models.Model], str] | None = None,
    project_apps: Iterable[str] = (),
) -> dict[type[models.Model], str]:
    """The GraphQL type name of every model, by the rule in this module's docstring."""
    model_list = list(model_list)
    pinned = pinned or {}
    project_apps = tuple(project_apps)
    claimed_types: set[str] = set(RESERVED_TYPE_NAMES)
    claimed_roots: set[str] = set(RESERVED_ROOT_NAMES)
    result: dict[type[models.Model], str] = {}

    def free(name: str, model: type[models.Model]) -> bool:
        return not (derived_type_names(name, model) & claimed_types
                    or root_names(name) & claimed_roots)

    def claim(name: str, model: type[models.Model]) -> None:
        claimed_types.update(derived_type_names(name, model))
        claimed_roots.update(root_names(name))
        result[model] = name

    for model, name in pinned.items():
        if model not in model_list:
            continue
        if not is_graphql_name(name):
            raise ImproperlyConfigured(
                f"{model._meta.label}: type_name {name!r} is not a GraphQL name")
        if not free(name, model):
            raise ImproperlyConfigured(
                f"{model._meta.label}: type_name {name!r} (or a name it derives) is taken")
        claim(name, model)

    package = {m: is_package_app(m, project_apps) for m in model_list}
    for model in sorted((m for m in model_list if m not in result),
                        key=lambda m: package[m]):  # stable: keeps registry order
        prefixed = pascal_case(model._meta.app_label) + graphql_name(model.__name__)
        candidates = [prefixed] if package[model] else [graphql_name(model.__name__), prefixed]
        chosen = next((c for c in candidates if free(c, model)), None)
        number = 2
        while chosen is None:
            if free(f"{prefixed}{number}", model):
                chosen = f"{prefixed}{number}"
            number += 1
        claim(chosen, model)
    return result
