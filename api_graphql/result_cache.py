"""A result cache for read queries that the change stream keeps exact.

A cached response records, for every model it read (through relations, filters
and row rules), that model's change version when it was computed. A request
reads the current versions (one small query) and serves the cached response only
if none moved. Versions come from a *version source* plugged in from outside:
``realtime`` provides the outbox positions, which advance with every captured
write, so a hot query costs no database work beyond that check and is never older
than the last sequenced change. Without a version source nothing is cached.

Writes that send no signal must be published (``realtime.publish_changes``);
``RESULT_CACHE_TTL`` bounds how long an unpublished write could go unseen.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from api_graphql.conf import graphql_settings
from api_graphql.model_graph import ModelGraph, ModelSpec
from api_graphql.permissions import Scope
from api_graphql.selection import FieldSelection

#: Given stream labels, their current versions in the same order.
VersionSource = Callable[[tuple[str, ...]], tuple[int, ...]]
_version_source: VersionSource | None = None


def set_version_source(source: VersionSource | None) -> None:
    global _version_source
    _version_source = source


def version_source() -> VersionSource | None:
    return _version_source


class Uncacheable(Exception):
    """What a response depends on cannot be told (a custom expression in a rule)."""


def stream_label(spec: ModelSpec) -> str:
    concrete = spec.model._meta.concrete_model or spec.model
    return concrete._meta.label_lower


def _walk_lookup(graph: ModelGraph, model: Any, path: str, found: set[str]) -> None:
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except Exception:
            return
        related = getattr(field, "related_model", None)
        if not getattr(field, "is_relation", False) or related is None:
            return
        spec = graph.get(related)
        if spec is None:
            raise Uncacheable(f"a row rule reads {related._meta.label}, which is not captured")
        found.add(spec.label)
        current = related


def _rule_models(graph: ModelGraph, model: Any, q: Q, found: set[str]) -> None:
    for child in list(q.children):
        if isinstance(child, Q):
            _rule_models(graph, model, child, found)
        elif isinstance(child, tuple):
            _walk_lookup(graph, model, child[0], found)
        else:
            raise Uncacheable("a row rule uses an expression")


def _filter_models(graph: ModelGraph, spec: ModelSpec, value: Any, found: set[str]) -> None:
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in ("AND", "OR"):
            for sub in item or ():
                _filter_models(graph, spec, sub, found)
        elif key == "NOT":
            _filter_models(graph, spec, item, found)
        elif key in spec.computed:
            raise Uncacheable(f"a filter on {spec.type_name}.{key}, an annotation")
        elif key in spec.relations and spec.relations[key].kind != "generic":
            target = graph.specs[spec.relations[key].target]
            found.add(target.label)
            _filter_models(graph, target, item, found)


def dependencies(graph: ModelGraph, scope: Scope, spec: ModelSpec,
                 selection: FieldSelection) -> set[str]:
    """Every model whose changes could change this selection's answer."""
    found: set[str] = set()

    def visit(spec: ModelSpec, selection: FieldSelection) -> None:
        if selection.args.get("scopes"):
            raise Uncacheable(f"a scope of {spec.type_name} is project code")
        found.add(spec.label)
        rule = scope.read_rule(spec)
        if isinstance(rule, Q):
            _rule_models(graph, spec.model, rule, found)
        _filter_models(graph, spec, selection.args.get("filters"), found)
        for item in selection.args.get("ordering") or ():
            _filter_models(graph, spec, item, found)
        for child in (selection.children or {}).values():
            if child.name in spec.computed:
                raise Uncacheable(f"{spec.type_name}.{child.name} is computed by project code")
            name = child.name.removesuffix("_count")
            relation = spec.relations.get(child.name) or spec.relations.get(name)
            if relation is None:
                if child.children:  # connection edges/node, file subfields
                    visit(spec, child)
                continue
            if relation.kind == "generic":
                found.update(s.label for s in graph)
                continue
            visit(graph.specs[relation.target], child)

    visit(spec, selection)
    return {stream_label(graph.specs[label]) for label in found}


@dataclass(frozen=True)
class Entry:
    versions: tuple[int, ...]
    result: dict[str, Any]
    expires: float


class ResultCache:
    """Responses by (document, variables, permission scope), with their versions."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], versions: tuple[int, ...]) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None or entry.versions != versions or entry.expires < time.monotonic():
            self.misses += 1
            return None
        self.hits += 1
        return entry.result

    def put(self, key: tuple[Any, ...], versions: tuple[int, ...],
            result: dict[str, Any]) -> None:
        conf = graphql_settings()
        with self._lock:
            self._entries[key] = Entry(versions, result, time.monotonic() + conf.result_cache_ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > conf.result_cache_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def current_versions(labels: Iterable[str]) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    source = _version_source
    if source is None or not graphql_settings().result_cache:
        return None
    if connection.in_atomic_block:
        return None  # the transaction may see its own uncommitted writes

    ordered = tuple(sorted(labels))
    return ordered, source(ordered)

