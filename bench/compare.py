"""Check that every contender answers the same data (a benchmark of different
answers would be meaningless). Used by the orchestrator before measuring."""

from __future__ import annotations

from typing import Any


def normalize(value: Any) -> Any:
    """Ids as strings, datetimes to the second, tag lists sorted: the data, not its form."""
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [normalize(item) for item in value]
        if items and all(isinstance(i, dict) and set(i) == {"id", "name"} for i in items):
            items.sort(key=lambda i: int(i["id"]))
        return items
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return value[:19]
    if hasattr(value, "isoformat"):
        return value.isoformat()[:19]
    return value


def same(a: Any, b: Any) -> bool:
    return normalize(a) == normalize(b)
