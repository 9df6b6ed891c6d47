"""Turn change events into subscription payloads (sync ORM code, run off the loop).

For a group of identical subscriptions and a batch of events, one reader query
loads every created or updated object that the group may see and that matches
its filter; the rest of the batch is decided from the event itself (LEFT,
DELETED) with :mod:`realtime.matching`. Payloads are serialized once per group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from django.db import InterfaceError, OperationalError
from django.db.models import F, Min, Q

from api_graphql import encoding
from api_graphql.context import RequestContext
from api_graphql.filters import FilterCompiler
from api_graphql.model_graph import ModelSpec
from api_graphql.reader import restrict
from api_graphql.selection import TYPENAME, FieldSelection
from realtime.capture import concrete
from realtime.conf import realtime_settings
from realtime.events import CREATED, DELETED, UPDATED, ChangeEvent
from realtime.matching import as_of
from realtime.models import ChangeRecord, StreamPosition
from realtime.sequencer import assign_sequence, position, to_event

if TYPE_CHECKING:
    from realtime.hub import SubscriptionGroup

logger = logging.getLogger(__name__)
LEFT = "LEFT"
INTERNAL_ERROR = {"message": "This subscription failed on the server; resubscribe with "
                             "your last cursor.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
#: A new subscription the database could not serve within the hub's patience.
UNAVAILABLE_ERROR = {"message": "The database is unavailable; resubscribe with your last "
                                "cursor.", "extensions": {"code": "UNAVAILABLE"}}
CATCH_UP_BATCH = 1000


def stream_label(spec: ModelSpec) -> str:
    """Proxies share their concrete model's stream."""
    return concrete(spec.model)._meta.label_lower


class Condition:
    """What a subscription may receive: readable rows matching its filter."""

    def __init__(self, context: RequestContext, spec: ModelSpec,
                 selection: FieldSelection) -> None:
        context.scope.require_read(spec)
        rule = context.scope.read_rule(spec)
        self.readable = rule is not False
        compiled = FilterCompiler(context.built.graph, context.scope).compile(
            spec, selection.args.get("filters")
        )
        self.q: Q = compiled.q & (rule if isinstance(rule, Q) else Q())
        self.rule: Q = rule if isinstance(rule, Q) else Q()


def _node_children(selection: FieldSelection) -> dict[str, FieldSelection]:
    merged: dict[str, FieldSelection] = {}
    for child in (selection.children or {}).values():
        if child.name == "node":
            merged.update(child.children or {})
    return merged


def payload(group: SubscriptionGroup, op: str, seq: int, pk: str | None = None,
            node: dict[str, Any] | None = None,
            changed: tuple[str, ...] | None = None) -> str:
    selection = group.selection
    event: dict[str, Any] = {}
    for key, child in (selection.children or {}).items():
        name = child.name
        if name == "op":
            event[key] = op
        elif name == "cursor":
            event[key] = str(seq)
        elif name == "pk":
            event[key] = pk
        elif name == "node":
            event[key] = None if node is None else {k: node[k] for k in child.children or {}}
        elif name == "changed_fields":
            event[key] = list(changed) if changed is not None else None
        elif name == TYPENAME:
            event[key] = f"{group.spec.type_name}Change"
    try:
        return encoding.dumps({"data": {selection.key: event}}).decode()
    except TypeError:
        # The event still goes out (and the subscription lives on), its node an error.
        logger.exception("realtime: %s", encoding.ENCODING_FAILED)
        errors = []
        for key, child in (selection.children or {}).items():
            if child.name == "node":
                event[key] = None
                errors.append(encoding.encoding_error([selection.key, key]))
        return orjson.dumps({"data": {selection.key: event}, "errors": errors}).decode()


def marker(group: SubscriptionGroup, op: str, seq: int) -> str:
    """READY or RESYNC: no object, just where the stream stands."""
    return payload(group, op, seq)


def _matched_before(group: SubscriptionGroup, condition: Condition, event: ChangeEvent,
                    before: Before) -> bool:
    """Whether the object matched just before ``event``, given what it was then."""
    model = group.spec.model
    gone = before.gone
    if not condition.q:
        # Without a condition nothing can leave it: an object not found was deleted,
        # and its DELETED event follows.
        return gone
    if before.previous is None:
        # What it was is unknown: LEFT if the subscriber may see it now.
        return restrict(model._default_manager.filter(pk=event.pk), condition.rule).exists()
    relations = group.spec.relations
    changed_relations = frozenset(
        relations[name].query_name for name in before.changed if name in relations)
    rewritten = as_of(model, condition.q, before.previous, gone, changed_relations)
    if gone:
        # Only literals are left: evaluate them on any one row, the event's own stream
        # position (it exists: the event was sequenced).
        return StreamPosition.objects.filter(pk=event.model).filter(rewritten).exists()
    return model._default_manager.filter(pk=event.pk).filter(rewritten).exists()


@dataclass(frozen=True)
class Before:
    """What an object was just before a change: ``previous`` (attname -> value) for the
    columns known, the others as they are now; every column when it is ``gone`` since;
    ``changed``: the fields and relations that changed meanwhile (a relation's old
    members are unknown). ``previous`` None: unknown."""

    previous: dict[str, Any] | None
    changed: frozenset[str]
    gone: bool


def _own(event: ChangeEvent) -> Before:
    """What the event itself says: right for a DELETED (the whole row), and for an
    UPDATED while nothing changed the object after it."""
    return Before(event.previous, frozenset(event.changed_fields or ()), event.op == DELETED)


class History:
    """Per UPDATED event of a batch, what its object was just before it, from the
    object's later changes in the outbox (in this batch or after it: the row may have
    changed again, or be gone, by the time the batch is rendered). Each later change
    holds what the object was before it, so the first one per column says what the
    column was right after this event; a DELETED's previous values are the whole row.
    Read once per batch, for every group, and only if an update needs it."""

    def __init__(self, events: list[ChangeEvent]) -> None:
        self.events = events
        self._before: dict[int, Before] | None = None

    def before(self, event: ChangeEvent) -> Before:
        if self._before is None:
            self._before = self._read()
        return self._before.get(event.seq, _own(event))

    def _read(self) -> dict[int, Before]:
        updates = [e for e in self.events if e.op == UPDATED and e.previous is not None]
        if not updates:
            return {}
        label = updates[0].model
        # The stored keys (a UUID's may differ from the event's), per seq.
        stored = dict(ChangeRecord.objects.filter(model=label, seq__in=[e.seq for e in updates])
                      .values_list("seq", "object_pk"))
        first = min(e.seq for e in updates)
        later = (ChangeRecord.objects.filter(model=label, object_pk__in=set(stored.values()))
                 .filter(Q(seq__gt=first) | Q(seq__isnull=True))
                 .order_by(F("seq").asc(nulls_last=True), "id")
                 .values_list("object_pk", "seq", "op", "changed_fields", "previous"))
        changes: dict[str, list[tuple[int | None, str, Any, Any]]] = {}
        for object_pk, seq, op, changed, previous in later:
            changes.setdefault(object_pk, []).append((seq, op, changed, previous))
        result = {}
        for event in updates:
            state: dict[str, Any] = {}
            touched = set(event.changed_fields or ())
            gone = False
            for seq, op, changed, previous in changes.get(stored.get(event.seq, ""), ()):
                if seq is not None and seq <= event.seq:
                    continue
                for name, value in (previous or {}).items():
                    state.setdefault(name, value)
                touched.update(changed or ())
                if op == DELETED:
                    gone = True
                    break
            result[event.seq] = Before({**state, **(event.previous or {})}, frozenset(touched),
                                       gone)
        return result


def render_events(group: SubscriptionGroup, events: list[ChangeEvent],
                  history: History | None = None) -> list[tuple[int, str]]:
    """The payloads of one group for a batch of events, in seq order."""
    condition: Condition = group.condition
    if not condition.readable:
        return []
    history = history or History(events)
    spec, reader = group.spec, group.context.reader
    wanted = {e.pk for e in events if e.op in (CREATED, UPDATED)}
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        pk_field = spec.pk.django_field
        keys = [pk_field.to_python(pk) for pk in wanted]
        qs = restrict(spec.model._default_manager.filter(pk__in=keys), condition.q)
        group.executions += 1
        fetched = reader.nodes(spec, qs, _node_children(group.selection))
        for pk, node in fetched.keyed(spec.pk.attname).items():
            found[str(pk)] = node
    # An object deleted in the batch while it matched gets its DELETED; a LEFT before
    # it would say the same twice.
    deleted = {e.pk for e in events if e.op == DELETED
               and _matched_before(group, condition, e, _own(e))}
    result = []
    for event in events:
        if event.op in (CREATED, UPDATED):
            found_node = found.get(event.pk)
            if found_node is not None:
                result.append((event.seq, payload(group, event.op, event.seq, event.pk,
                                                  found_node, event.changed_fields)))
            elif (event.op == UPDATED and event.pk not in deleted
                  and _matched_before(group, condition, event, history.before(event))):
                result.append((event.seq, payload(group, LEFT, event.seq, event.pk, None,
                                                  event.changed_fields)))
        elif event.op == DELETED and event.pk in deleted:
            result.append((event.seq, payload(group, DELETED, event.seq, event.pk)))
    return result


def render_groups(groups: list[SubscriptionGroup], events: list[ChangeEvent]
                  ) -> list[tuple[SubscriptionGroup, list[tuple[int, str]] | None]]:
    """Payloads per group; None for a group whose selection failed (its members get
    an error and can resubscribe), so one bad group never stalls the stream. A lost
    database connection fails every group alike: it is raised, for the hub to retry."""
    result: list[tuple[SubscriptionGroup, list[tuple[int, str]] | None]] = []
    history = History(events)
    for group in groups:
        try:
            result.append((group, render_events(group, events, history)))
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            logger.exception("realtime: rendering %s events failed", group.spec.label)
            result.append((group, None))
    return result


def records_after(label: str, last_seq: int, limit: int = CATCH_UP_BATCH) -> list[ChangeEvent]:
    records = ChangeRecord.objects.filter(model=label, seq__gt=last_seq).order_by("seq")[:limit]
    return [to_event(record) for record in records]


def replay(group: SubscriptionGroup, label: str, after: int, upto: int
           ) -> list[tuple[int, str]] | None:
    """What a subscriber missed after ``after``, or None when only a RESYNC can help."""
    if after > position(label):
        return None  # a cursor from the future: another database, or one reset since
    if after >= upto:
        return []
    oldest = ChangeRecord.objects.filter(model=label, seq__isnull=False).aggregate(
        first=Min("seq"))["first"]
    if oldest is None or oldest > after + 1:
        return None  # pruned by the retention window
    limit = realtime_settings().max_replay
    records = list(ChangeRecord.objects.filter(model=label, seq__gt=after, seq__lte=upto)
                   .order_by("seq")[: limit + 1])
    if len(records) > limit:
        return None
    return render_events(group, [to_event(record) for record in records])


def sequence_orphans() -> None:
    """Sequence records no process of ours sequenced: written by another program (the
    triggers capture psql and other services too), or by a process that died first."""
    if ChangeRecord.objects.filter(seq__isnull=True).exists():
        assign_sequence()
