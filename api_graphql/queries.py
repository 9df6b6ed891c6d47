"""The root query fields of each exposed model.

``article(pk)``, ``article_list(filters, ordering, offset, limit)``,
``article_count(filters)`` and ``article_connection(filters, ordering, first, after)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types.unset import UNSET

from api_graphql import compiled, type_factory
from api_graphql.model_graph import ModelSpec
from api_graphql.root_fields import RootField
from api_graphql.scopes import scope_argument
from api_graphql.selection import FieldSelection
from api_graphql.type_factory import REQUIRED
from api_graphql.types import list_arguments

if TYPE_CHECKING:
    from api_graphql.context import RequestContext


def model_query_fields(spec: ModelSpec) -> list[RootField]:
    def get(context: RequestContext, selection: FieldSelection) -> Any:
        return compiled.answer(context.reader, "get", spec, selection)

    def list_(context: RequestContext, selection: FieldSelection) -> Any:
        return compiled.answer(context.reader, "page", spec, selection)

    def count(context: RequestContext, selection: FieldSelection) -> Any:
        return context.reader.count(spec, selection)

    def connection(context: RequestContext, selection: FieldSelection) -> Any:
        return context.reader.connection(spec, selection)

    node = type_factory.ref(spec.type_name)
    filters = (type_factory.ref(spec.filter_name) | None, UNSET)
    scoped = scope_argument(spec)
    name = spec.root_name
    return [
        RootField(name, "query", node | None, get, {"pk": (strawberry.ID, REQUIRED)},
                  f"One {spec.type_name} by primary key, or null.", spec, cacheable=True),
        RootField(f"{name}_list", "query", type_factory.list_of(node), list_,
                  {**scoped, **list_arguments(spec)},
                  f"{spec.type_name} objects: filtered, ordered, one page.", spec,
                  cacheable=True),
        RootField(f"{name}_count", "query", int, count, {**scoped, "filters": filters},
                  f"How many {spec.type_name} objects match.", spec, cacheable=True),
        RootField(
            f"{name}_connection", "query",
            type_factory.ref(f"{spec.type_name}Connection"), connection,
            {
                **scoped,
                "filters": filters,
                "ordering": (type_factory.list_of(type_factory.ref(spec.order_name)) | None, UNSET),
                "first": (int | None, UNSET),
                "after": (str | None, UNSET),
            },
            f"{spec.type_name} objects in keyset pages, for large tables.", spec,
            cacheable=True,
        ),
    ]
