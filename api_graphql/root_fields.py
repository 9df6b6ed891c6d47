"""Root fields: one definition serves both execution paths.

A :class:`RootField` names its GraphQL signature and a handler that takes the
request context and the field's selection and returns the response value. The
fast path calls handlers directly; the Strawberry schema gets a resolver built
from the same definition, so the two paths cannot drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import strawberry
from graphql import GraphQLError, GraphQLResolveInfo, SelectionSetNode
from graphql.execution.values import VariableValues

from api_graphql.errors import GraphQLUserError
from api_graphql.selection import FieldSelection, SelectionBuilder
from api_graphql.type_factory import with_arguments

if TYPE_CHECKING:
    from api_graphql.context import RequestContext

logger = logging.getLogger(__name__)
Operation = Literal["query", "mutation", "subscription"]
Handler = Callable[["RequestContext", FieldSelection], Any]


@dataclass
class RootField:
    name: str
    operation: Operation
    annotation: Any
    handler: Handler
    #: name -> (annotation, default); ``REQUIRED`` for arguments without default.
    arguments: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    description: str | None = None
    #: The model a field is about, for transports that handle it themselves.
    model_spec: Any = None
    #: A read of ``model_spec`` whose answer depends only on the document, the
    #: variables and the permission scope: the result cache may keep it.
    cacheable: bool = False

    def strawberry_field(self) -> Any:
        if self.operation == "subscription":
            return strawberry.subscription(
                resolver=_stream_resolver(self), graphql_type=self.annotation, name=self.name,
                description=self.description,
            )
        return strawberry.field(
            resolver=_resolver(self), graphql_type=self.annotation, name=self.name,
            description=self.description,
        )


def selection_from_info(info: strawberry.Info) -> FieldSelection:
    """The selection of the field being resolved, built from graphql-core's info."""
    return selection_from_resolve_info(info._raw_info)


def selection_from_resolve_info(raw: GraphQLResolveInfo) -> FieldSelection:
    """The same, from graphql-core's own resolve info."""
    variables: Any = raw.variable_values
    if isinstance(variables, dict):  # Strawberry hands resolvers the coerced dict only
        variables = VariableValues({}, variables)
    builder = SelectionBuilder(raw.schema, dict(raw.fragments), variables)
    fields = builder.fields(raw.parent_type, [SelectionSetNode(selections=tuple(raw.field_nodes))])
    return fields[str(raw.path.key)]


def _resolver(root_field: RootField) -> Callable[..., Any]:
    def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        try:
            return root_field.handler(info.context, selection_from_info(info))
        except GraphQLUserError as error:
            raise GraphQLError(
                error.message, extensions={"code": error.code, **error.extensions}
            ) from None
        except Exception:
            logger.exception("api_graphql: unexpected error in %s", root_field.name)
            raise GraphQLError("Internal server error.",
                               extensions={"code": "INTERNAL_SERVER_ERROR"}) from None

    resolver = with_arguments(resolve, root_field.arguments)
    resolver.__name__ = root_field.name
    return resolver


def _stream_resolver(root_field: RootField) -> Callable[..., Any]:
    """Subscriptions are served by the WebSocket transport, not by Strawberry."""

    async def stream(root: Any, info: strawberry.Info, **kwargs: Any) -> AsyncIterator[Any]:
        raise GraphQLError(f"{root_field.name} is served over the WebSocket endpoint.")
        yield  # pragma: no cover - makes this an async generator

    resolver = with_arguments(stream, root_field.arguments)
    resolver.__name__ = root_field.name
    return resolver
