"""The change event as it travels between processes: primitives only.

channels-redis serializes with msgpack, which refuses datetime, Decimal, UUID and
sets; so pks are strings and previous values are their JSON form.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

CREATED = "CREATED"
UPDATED = "UPDATED"
DELETED = "DELETED"
MESSAGE_TYPE = "realtime.changes"


def json_safe(value: Any) -> Any:
    """A value of a model field as JSON/msgpack can carry it (see ``field.to_python``)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class ChangeEvent:
    model: str
    pk: str
    op: str
    seq: int
    changed_fields: tuple[str, ...] | None = None
    previous: dict[str, Any] | None = None

    def to_wire(self) -> list[Any]:
        fields = list(self.changed_fields) if self.changed_fields is not None else None
        return [self.seq, self.pk, self.op, fields, self.previous]

    @classmethod
    def from_wire(cls, model: str, item: list[Any]) -> ChangeEvent:
        seq, pk, op, fields, previous = item
        return cls(model, pk, op, int(seq), tuple(fields) if fields is not None else None,
                   previous)


def layer_group(model_label: str) -> str:
    """The channel-layer group of one model (ASCII, dots allowed, < 100 chars)."""
    return "realtime." + model_label.replace("_", "-")[:80]


def layer_message(model_label: str, events: list[ChangeEvent]) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "model": model_label,
            "events": [event.to_wire() for event in events]}


def by_model(events: list[ChangeEvent]) -> dict[str, list[ChangeEvent]]:
    grouped: dict[str, list[ChangeEvent]] = defaultdict(list)
    for event in events:
        grouped[event.model].append(event)
    return grouped


async def send_to_layer(layer: Any, events: list[ChangeEvent]) -> None:
    """One channel-layer message per model's group."""
    for label, model_events in by_model(events).items():
        await layer.group_send(layer_group(label), layer_message(label, model_events))
