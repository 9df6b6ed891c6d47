"""The naming rule of the public contract (see DESIGN.md, "Names").

GraphQL names are Django names. A type is named after its model class; when two
exposed models share a class name, both take their app label as a prefix
(``auth.Group`` and ``shop.Group`` become ``AuthGroup`` and ``ShopGroup``).
Root fields derive from the model name in snake case.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from django.db import models

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_NAME = re.compile(r"[^_0-9A-Za-z]")


def snake_case(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def pascal_case(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


def graphql_name(value: str) -> str:
    """A valid GraphQL name for an arbitrary string (enum members, keys)."""
    name = _NOT_NAME.sub("_", value.strip())
    if not name or name[0].isdigit():
        name = "_" + name
    return name


def type_names(model_list: Iterable[type[models.Model]]) -> dict[type[models.Model], str]:
    """The GraphQL type name of every model, by the one documented rule."""
    model_list = list(model_list)
    counts = Counter(model.__name__ for model in model_list)
    return {
        model: (
            pascal_case(model._meta.app_label) + model.__name__
            if counts[model.__name__] > 1
            else model.__name__
        )
        for model in model_list
    }


def root_field_base(type_name: str) -> str:
    """``Article`` -> ``article``; ``AuthGroup`` -> ``auth_group``."""
    return snake_case(type_name)
