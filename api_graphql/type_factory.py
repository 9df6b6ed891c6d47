"""Build Strawberry classes at run time from the model graph.

Generated classes live in one synthetic module so that ``strawberry.lazy`` can
resolve references between them: relations are circular (User.article_set ->
Article.author -> User), and lazy references are how Strawberry allows that.
"""

from __future__ import annotations

import inspect
import keyword
import sys
import types
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.unset import UNSET

REQUIRED = inspect.Parameter.empty

MODULE_NAME = "api_graphql.generated"


def _module() -> types.ModuleType:
    module = sys.modules.get(MODULE_NAME)
    if module is None:
        module = types.ModuleType(MODULE_NAME, "Types generated from the exposed models.")
        sys.modules[MODULE_NAME] = module
    return module


def generated_module() -> types.ModuleType:
    """The module holding every class generated for the schema being built."""
    return _module()


def reset() -> None:
    """Forget every generated class (a new schema is about to be built)."""
    sys.modules[MODULE_NAME] = types.ModuleType(MODULE_NAME)


def ref(type_name: str) -> Any:
    """A lazy reference to a generated class, resolved when the schema is built."""
    return Annotated[type_name, strawberry.lazy(MODULE_NAME)]


def list_of(item: Any) -> Any:
    """``list[item]`` for an item type only known at run time."""
    return list[item]


def python_name(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or not name.isidentifier() else name


def read_response_key(root: Any, info: strawberry.Info) -> Any:
    """Every field of a model type: the reader already put the value under its key."""
    return root.get(info.path.key) if isinstance(root, dict) else None


#: One resolver for every field without arguments: Strawberry reads a resolver's
#: signature and evaluates its annotations once per resolver object, and a schema
#: has thousands of these fields (a fifth of the build when each had its own).
_READ_RESPONSE_KEY = StrawberryResolver(read_response_key)


class NameTaken(Exception):
    """Two generated types asked for one GraphQL name: the naming rule (naming.py)
    should have prevented it; failing at build time beats replacing a type."""


def _claim(name: str) -> None:
    if hasattr(_module(), name):
        raise NameTaken(f"the GraphQL type name {name!r} is generated twice; pin another "
                        "with ModelConfig.type_name (docs/NAMING.md)")


def _publish(cls: type) -> type:
    _claim(cls.__name__)
    setattr(_module(), cls.__name__, cls)
    return cls


def alias(name: str, type_name: str) -> None:
    """Make a generated class reachable under a second name (not a GraphQL name: the
    lazy references of hand-written code name a model, see ``handwritten.model_type``)."""
    setattr(_module(), name, getattr(_module(), type_name))


def with_arguments(
    function: Callable[..., Any], arguments: dict[str, tuple[Any, Any]]
) -> Callable[..., Any]:
    """``function(root, info, **kwargs)`` with a signature Strawberry reads arguments from:
    ``arguments`` maps each name to (annotation, default or ``REQUIRED``)."""

    def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return function(root, info, **kwargs)

    params = [
        inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=strawberry.Info),
    ]
    for name, (annotation, default) in arguments.items():
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                        annotation=annotation, default=default))
    resolve.__signature__ = inspect.Signature(params, return_annotation=Any)  # type: ignore[attr-defined]
    resolve.__annotations__ = {
        p.name: p.annotation for p in params if p.annotation is not inspect.Parameter.empty
    }
    resolve.__annotations__["return"] = Any
    return resolve


def read_field(name: str, annotation: Any, arguments: dict[str, tuple[Any, Any]] | None = None,
               description: str | None = None) -> Any:
    """A field of a model type: its value is already in the reader's dict."""
    resolver = (StrawberryResolver(with_arguments(read_response_key, arguments)) if arguments
                else _READ_RESPONSE_KEY)
    return strawberry.field(resolver=resolver, graphql_type=annotation, name=name,
                            description=description)


def object_type(name: str, fields: dict[str, Any], description: str | None = None) -> type:
    """An output type: ``fields`` maps names to annotations or to prebuilt fields."""
    namespace: dict[str, Any] = {"__module__": MODULE_NAME, "__annotations__": {}}
    for field_name, value in fields.items():
        attr = python_name(field_name)
        if isinstance(value, StrawberryField):
            value.graphql_name = field_name
            namespace["__annotations__"][attr] = value.type_annotation.annotation  # type: ignore[union-attr]
            namespace[attr] = value
        else:
            namespace["__annotations__"][attr] = value
            namespace[attr] = read_field(field_name, value)
    cls = type(name, (), namespace)
    return _publish(strawberry.type(cls, name=name, description=description))


def input_type(
    name: str, fields: dict[str, Any], description: str | None = None, one_of: bool = False
) -> type:
    """An input type whose fields are all optional (UNSET when absent)."""
    namespace: dict[str, Any] = {"__module__": MODULE_NAME, "__annotations__": {}}
    for field_name, annotation in fields.items():
        attr = python_name(field_name)
        namespace["__annotations__"][attr] = annotation
        namespace[attr] = strawberry.field(default=UNSET, name=field_name)
    cls = type(name, (), namespace)
    return _publish(strawberry.input(cls, name=name, description=description, one_of=one_of))


def required_input_type(name: str, fields: dict[str, tuple[Any, bool]],
                        description: str | None = None) -> type:
    """An input type where some fields are required: ``{name: (annotation, required)}``."""
    namespace: dict[str, Any] = {"__module__": MODULE_NAME, "__annotations__": {}}
    ordered = sorted(fields.items(), key=lambda item: not item[1][1])
    for field_name, (annotation, required) in ordered:
        attr = python_name(field_name)
        namespace["__annotations__"][attr] = annotation
        namespace[attr] = (
            strawberry.field(name=field_name)
            if required
            else strawberry.field(default=UNSET, name=field_name)
        )
    cls = type(name, (), namespace)
    return _publish(strawberry.input(cls, name=name, description=description))


def enum_type(name: str, members: list[str], description: str | None = None) -> Any:
    import enum

    cls = enum.Enum(name, {member: member for member in members})  # type: ignore[misc]
    cls.__module__ = MODULE_NAME
    return _publish(strawberry.enum(cls, name=name, description=description))


def union_type(name: str, members: tuple[type, ...]) -> Any:
    member_union: Any = members[0] if len(members) == 1 else _union_of(members)
    union: Any = Annotated[member_union, strawberry.union(name)]
    _claim(name)
    setattr(_module(), name, union)
    return union


def _union_of(members: tuple[type, ...]) -> Any:
    import functools
    import operator

    return functools.reduce(operator.or_, members)
