"""The subscription fields ``<model>_changes(filters, after)``, plugged into the schema.

``api_graphql`` never imports this module: ``RealtimeConfig.ready`` registers
:func:`subscription_fields` as a schema contributor.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from api_graphql import type_factory
from api_graphql.model_graph import ModelGraph
from api_graphql.root_fields import RootField
from api_graphql.selection import FieldSelection

CHANGE_OP = "ChangeOp"
OPS = ["READY", "CREATED", "UPDATED", "DELETED", "LEFT", "RESYNC"]


def change_type_name(type_name: str) -> str:
    return f"{type_name}Change"


def _served_by_websocket(context: Any, selection: FieldSelection) -> Any:
    raise AssertionError("subscriptions are served by realtime.consumer")


def subscription_fields(graph: ModelGraph) -> list[RootField]:
    op = type_factory.enum_type(
        CHANGE_OP, OPS,
        "READY: listening, nothing can be missed from here on. CREATED, UPDATED, DELETED: "
        "a change. LEFT: an update moved the object out of the filter. RESYNC: events "
        "were missed beyond recall; refetch, then continue.",
    )
    fields = []
    for spec in graph:
        if not spec.config.subscriptions:
            continue
        change = type_factory.object_type(
            change_type_name(spec.type_name),
            {
                "op": op,
                "cursor": str | None,
                "pk": strawberry.ID | None,
                "node": type_factory.ref(spec.type_name) | None,
                "changed_fields": list[str] | None,
            },
            description=f"A change to a {spec.type_name}. Pass the last cursor as `after` "
                        "to resume without a gap.",
        )
        fields.append(RootField(
            f"{spec.root_name}_changes", "subscription", change, _served_by_websocket,
            {
                "filters": (type_factory.ref(spec.filter_name) | None, UNSET),
                "after": (str | None, UNSET),
            },
            f"Every change to a {spec.type_name} you may view that matches the filters.",
            model_spec=spec,
        ))
    return fields
