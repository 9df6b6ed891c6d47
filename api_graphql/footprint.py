"""What a cached answer depends on, finely enough to tell whether one change event
can change it.

A :class:`Footprint` is built once per operation plan and permission scope from the
selection: for every model the answer reads, the fields whose change in a row it
contains could change it (selected, filtered, ordered by, or read by a row rule),
whether it holds a *set* of that model's rows (a list, a to-many relation, a count)
that another row could enter or leave, and the fields that decide membership. The
rows it contains are recorded by the reader while it computes the answer.

An event then invalidates the answer only when

- it touches a row the answer contains: a delete, a create, an update of unknown
  fields or of a field the answer depends on;
- or the answer holds a set of that model: a created row, an update of a field
  that decides membership or order (the row could enter, leave or move across the
  window), a deleted row when the set is counted or offset;
- or the model is crossed by a filter, an ordering or a row rule of another model
  (``author: {username: ...}``): a create, a delete, or an update of a field that
  lookup reads there (``username``), in any row.

Every doubt counts as a change: an unknown field, a computed field, a generic
relation. A spurious invalidation costs one recomputation; a missed one would serve
a stale answer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import Q

from api_graphql.model_graph import ModelGraph, ModelSpec, RelationSpec
from api_graphql.pagination import page_bounds
from api_graphql.permissions import Scope
from api_graphql.selection import TYPENAME, FieldSelection

CREATED, UPDATED, DELETED = "CREATED", "UPDATED", "DELETED"
COUNT_SUFFIX = "_count"
#: In ``crossed``: the model is crossed at all, so its creates and deletes count.
CROSSED = ""
CONNECTION_PARTS = {"edges", "node", "page_info", "cursor", "total_count", "has_next_page",
                    "has_previous_page", "start_cursor", "end_cursor", TYPENAME}


class Uncacheable(Exception):
    """What a response depends on cannot be told (a custom expression in a rule)."""


class Change(Protocol):
    """One change event as the stream carries it (``realtime.events.ChangeEvent``)."""

    @property
    def pk(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def changed_fields(self) -> tuple[str, ...] | None: ...


def stream_label(spec: ModelSpec) -> str:
    """The change stream of a model: its concrete model's (proxies share the table)."""
    concrete = spec.model._meta.concrete_model or spec.model
    return concrete._meta.label_lower


@dataclass
class ModelFootprint:
    """How one model's changes reach an answer. ``None`` for a field set: any field."""

    #: A change of these fields in a contained row changes the answer.
    fields: set[str] | None = field(default_factory=set)
    #: The answer holds a set of this model's rows that other rows could enter.
    is_set: bool = False
    #: A change of these fields could move a row into, out of or across the set.
    membership: set[str] | None = field(default_factory=set)
    #: Rows leaving the set matter even when not shown (a count, an offset window).
    counted: bool = False
    #: Reached through a filter, an ordering or a rule across a relation: a change of
    #: these fields in *any* row (and any create or delete) may change which rows of
    #: another model match. ``None``: any change counts.
    crossed: set[str] | None = field(default_factory=set)
    #: Every change counts (a generic relation could point anywhere).
    any_change: bool = False

    def add_crossed(self, names: set[str] | None) -> None:
        if self.crossed is not None:
            self.crossed = None if names is None else self.crossed | names

    def add_fields(self, names: set[str] | None) -> None:
        if self.fields is not None:
            self.fields = None if names is None else self.fields | names

    def add_membership(self, names: set[str] | None) -> None:
        self.is_set = True
        if self.membership is not None:
            self.membership = None if names is None else self.membership | names
        self.add_fields(names)

    def affected_by(self, change: Change, contained: bool) -> bool:
        changed = change.changed_fields
        if self.any_change or self.crossed is None:
            return True
        if self.crossed and (change.op != UPDATED or changed is None
                             or not self.crossed.isdisjoint(changed)):
            return True
        if contained:
            if change.op != UPDATED or changed is None or self.fields is None:
                return True
            return not self.fields.isdisjoint(changed)
        if not self.is_set:
            return False
        if change.op == CREATED:
            return True
        if change.op == DELETED:
            return self.counted
        if changed is None or self.membership is None:
            return True
        return not self.membership.isdisjoint(changed)


@dataclass
class Footprint:
    models: dict[str, ModelFootprint] = field(default_factory=dict)

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(self.models)

    def of(self, label: str) -> ModelFootprint:
        found = self.models.get(label)
        if found is None:
            found = self.models[label] = ModelFootprint()
        return found

    def affected_by(self, label: str, change: Change, rows: dict[str, set[str]]) -> bool:
        model = self.models.get(label)
        if model is None:
            return True
        return model.affected_by(change, change.pk in rows.get(label, ()))


def relation_names(relation: RelationSpec) -> set[str]:
    """Every name a change event may use for ``relation`` on its own model."""
    names = {relation.name, relation.query_name}
    django_field = relation.django_field
    for attribute in ("name", "attname", "related_name"):
        value = getattr(django_field, attribute, None)
        if isinstance(value, str):
            names.add(value)
    accessor = getattr(django_field, "get_accessor_name", None)
    if callable(accessor):
        value = accessor()
        if isinstance(value, str):
            names.add(value)
    return names


def _remote_names(relation: RelationSpec, target: ModelSpec) -> set[str]:
    """The fields of ``target`` that tie its rows to the parent of a to-many relation."""
    names = {(relation.remote_path or "").split("__")[0]}
    for attname in (relation.ct_attname, relation.fk_attname):
        if attname:
            names.add(attname)
    for candidate in list(names):
        try:
            django_field: Any = target.model._meta.get_field(candidate)
        except Exception:
            continue
        names.add(django_field.name)
        if getattr(django_field, "attname", None):
            names.add(django_field.attname)
    names.discard("")
    return names


class FootprintBuilder:
    def __init__(self, graph: ModelGraph, scope: Scope) -> None:
        self.graph = graph
        self.scope = scope
        self.footprint = Footprint()

    def _reached(self, spec: ModelSpec, path: str) -> set[str]:
        """The local field a lookup starts from; on every model it crosses to, the field
        it reads there counts in any row (``crossed``)."""
        parts = path.split("__")
        names = {parts[0]}
        current = spec.model
        for index, part in enumerate(parts):
            try:
                django_field: Any = current._meta.get_field(part)
            except Exception:
                break
            if index == 0:
                names.add(django_field.name)
            related = getattr(django_field, "related_model", None)
            if not getattr(django_field, "is_relation", False) or related is None:
                break
            target = self.graph.get(related)
            if target is None:
                raise Uncacheable(f"a lookup reads {related._meta.label}, which is not captured")
            crossed: set[str] = set()
            if index + 1 < len(parts):
                # A lookup (isnull, in) or pk instead of a field: no field of the target.
                with contextlib.suppress(Exception):
                    crossed.add(related._meta.get_field(parts[index + 1]).name)
            self.footprint.of(stream_label(target)).add_crossed(crossed | {CROSSED})
            current = related
        return names

    def _rule_names(self, spec: ModelSpec, q: Q, found: set[str]) -> None:
        for child in list(q.children):
            if isinstance(child, Q):
                self._rule_names(spec, child, found)
            elif isinstance(child, tuple):
                found |= self._reached(spec, child[0])
            else:
                raise Uncacheable("a row rule uses an expression")

    def _filter_names(self, spec: ModelSpec, value: Any, found: set[str]) -> None:
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            if key in ("AND", "OR", "CHAIN"):
                for sub in item or ():
                    self._filter_names(spec, sub, found)
            elif key == "NOT":
                self._filter_names(spec, item, found)
            elif key in spec.fields:
                found.add(spec.fields[key].django_field.name)
                found.add(key)
            elif key in spec.computed:  # an annotation may read any table
                raise Uncacheable(f"a filter or ordering on {spec.type_name}.{key}, an annotation")
            elif key in spec.relations:
                relation = spec.relations[key]
                found |= relation_names(relation)
                if relation.kind == "generic":
                    self._everything()
                    continue
                target = self.graph.specs[relation.target]
                crossed = self._rule(target)
                self._filter_names(target, item, crossed)
                self.footprint.of(stream_label(target)).add_crossed(crossed | {CROSSED})

    def _ordering_names(self, spec: ModelSpec, args: dict[str, Any]) -> set[str] | None:
        found: set[str] = {spec.pk.django_field.name}
        items = args.get("ordering") or ()
        for item in items:
            self._filter_names(spec, item, found)
        if not items:
            for entry in spec.model._meta.ordering or ():
                if not isinstance(entry, str):
                    return None
                name = entry.lstrip("-?")
                if name:
                    found |= self._reached(spec, name)
        return found

    def _rule(self, spec: ModelSpec) -> set[str]:
        """The fields of ``spec`` its row rule reads (and marks the models it crosses)."""
        rule = self.scope.read_rule(spec)
        found: set[str] = set()
        if isinstance(rule, Q):
            self._rule_names(spec, rule, found)
        return found

    def _everything(self) -> None:
        for spec in self.graph:
            self.footprint.of(stream_label(spec)).any_change = True

    def _membership(self, spec: ModelSpec, args: dict[str, Any],
                    extra: set[str] | None = None) -> set[str] | None:
        if args.get("scopes"):
            raise Uncacheable(f"a scope of {spec.type_name} is project code")
        names = self._rule(spec) | (extra or set())
        self._filter_names(spec, args.get("filters"), names)
        ordering = self._ordering_names(spec, args)
        return None if ordering is None else names | ordering

    def root(self, spec: ModelSpec, selection: FieldSelection) -> None:
        model = self.footprint.of(stream_label(spec))
        args = selection.args
        if selection.name == spec.root_name:  # one object by pk: the reader watches it
            model.add_fields(self._rule(spec))
            self.children(spec, selection.children or {})
            return
        model.add_membership(self._membership(spec, args))
        if selection.name.endswith("_list"):
            model.counted = model.counted or page_bounds(args)[0] > 0
        else:
            children = selection.children or {}
            model.counted = model.counted or selection.name.endswith("_count") or any(
                c.name == "total_count" for c in children.values())
        if selection.children:
            self.children(spec, selection.children)

    def children(self, spec: ModelSpec, children: dict[str, FieldSelection]) -> None:
        model = self.footprint.of(stream_label(spec))
        selected: set[str] | None = set()
        for child in children.values():
            name = child.name
            if name in spec.fields:
                selected.add(spec.fields[name].django_field.name)  # type: ignore[union-attr]
                continue
            relation = spec.relations.get(name)
            counted = False
            if relation is None and name.endswith(COUNT_SUFFIX):
                relation = spec.relations.get(name[: -len(COUNT_SUFFIX)])
                counted = relation is not None
            if relation is not None:
                selected |= relation_names(relation)  # type: ignore[operator]
                self.relation(relation, child, counted)
            elif name in CONNECTION_PARTS:
                if child.children:
                    self.children(spec, child.children)
            elif name in spec.computed:  # project code: it may read any table
                raise Uncacheable(f"{spec.type_name}.{name} is computed by project code")
            else:
                selected = None  # a field computed in Python: any change may show
        model.add_fields(selected)

    def relation(self, relation: RelationSpec, child: FieldSelection, counted: bool) -> None:
        if relation.kind == "generic":
            self._everything()
            return
        target = self.graph.specs[relation.target]
        model = self.footprint.of(stream_label(target))
        rule = self._rule(target)
        if relation.kind == "forward" and relation.target_key == target.pk.attname:
            model.add_fields(rule)  # contained: the reader records the keys it asked for
        elif relation.kind == "forward":
            model.add_membership(rule | {relation.target_key})
        else:
            model.add_membership(self._membership(target, child.args,
                                                  _remote_names(relation, target)))
            model.counted = model.counted or counted or page_bounds(child.args)[0] > 0
        if not counted and child.children:
            self.children(target, child.children)
