"""Change versions per model, the result cache's version source.

A model's version is the seq of its last sequenced change. By default
(``RESULT_CACHE = "exact"``) they are read from the outbox positions: one small
query, and a cached read is never older than the last committed change. With
``"stream"`` and Redis, the hub of each server process hears every change as it is
published (it listens to every model) and keeps the versions in memory, so a
cached read costs no database work; another worker's write shows once its event
arrives, and the hub's poll re-reads the positions every few seconds so even a
lost message is caught. Without a running hub the database is asked.

The :class:`ChangeLog` is the cache's change source: the events between two
versions of a model, from memory when this process saw them (its own writes, the
hub's stream) or else from the outbox, so a cached answer survives changes that
cannot touch it (``api_graphql.footprint``).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Iterable

from api_graphql.conf import graphql_settings
from realtime.events import ChangeEvent
from realtime.sequencer import all_positions, to_event, versions_from_database

#: Events kept in memory per model; older ones are read from the outbox.
KEPT_PER_MODEL = 4096
#: More changes than this between two versions: recomputing costs less than judging.
MAX_GAP = 512


class ChangeLog:
    def __init__(self) -> None:
        self._events: dict[str, OrderedDict[int, ChangeEvent]] = {}
        self._lock = threading.Lock()

    def observe(self, events: Iterable[ChangeEvent]) -> None:
        with self._lock:
            for event in events:
                kept = self._events.setdefault(event.model, OrderedDict())
                while kept and next(reversed(kept)) >= event.seq:
                    # Seqs only grow: larger ones kept are from a database since reset
                    # (or arrived out of order; the outbox still has them).
                    kept.popitem()
                kept[event.seq] = event
                if len(kept) > KEPT_PER_MODEL:
                    kept.popitem(last=False)

    def __call__(self, label: str, after: int, upto: int,
                 memory_only: bool = False) -> list[ChangeEvent] | None:
        """The changes of ``label`` with ``after < seq <= upto``; None if some are gone
        (or, with ``memory_only``, not in memory)."""
        if upto - after > MAX_GAP:
            return None
        wanted = range(after + 1, upto + 1)
        kept = self._events.get(label)
        if kept is not None:
            with self._lock:
                found = [kept.get(seq) for seq in wanted]
            if all(event is not None for event in found):
                return found  # type: ignore[return-value]
        if memory_only:
            return None
        from realtime.models import ChangeRecord

        records = ChangeRecord.objects.filter(model=label, seq__gt=after, seq__lte=upto)
        events = sorted((to_event(record) for record in records), key=lambda e: e.seq)
        if len(events) != len(wanted):
            return None  # pruned, or not yet visible: judge nothing
        with self._lock:
            kept = self._events.setdefault(label, OrderedDict())
            if events and (not kept or next(reversed(kept)) < events[0].seq):
                kept.update((event.seq, event) for event in events)
        return events


class VersionTable:
    def __init__(self) -> None:
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()
        #: True while a hub keeps the table current from the change stream.
        self.live = False
        self._starting = False

    def observe(self, events: Iterable[ChangeEvent]) -> None:
        events = list(events)
        changes.observe(events)
        with self._lock:
            for event in events:
                if event.seq > self._known.get(event.model, 0):
                    self._known[event.model] = event.seq

    def refresh(self) -> None:
        """Catch up with the database (and with any message the layer lost)."""
        positions = all_positions()
        with self._lock:
            for label, seq in positions.items():
                if seq > self._known.get(label, 0):
                    self._known[label] = seq

    def _serving(self) -> bool:
        from realtime.hub import running_hub

        return (self.live and running_hub() is not None
                and graphql_settings().result_cache == "stream")

    def has_seen(self, cursor: dict[str, int] | None) -> bool:
        known = self._known
        return not cursor or all(known.get(label, 0) >= seq for label, seq in cursor.items())

    def __call__(self, labels: tuple[str, ...],
                 cursor: dict[str, int] | None = None) -> tuple[int, ...]:
        found = self.in_memory(labels, cursor)
        return versions_from_database(labels) if found is None else found

    def in_memory(self, labels: tuple[str, ...],
                  cursor: dict[str, int] | None = None) -> tuple[int, ...] | None:
        """The versions as this process heard them, or None when it cannot tell
        (no live stream, or the client's consistency cursor is ahead of it)."""
        if not self._serving() or not self.has_seen(cursor):
            return None
        known = self._known
        return tuple(known.get(label, 0) for label in labels)

    def ensure_live(self) -> None:
        """Start this process's hub, so the stream keeps the versions (stream mode)."""
        from realtime.hub import get_hub

        if graphql_settings().result_cache != "stream" or self.live or self._starting:
            return
        self._starting = True
        task = asyncio.get_running_loop().create_task(get_hub().start())
        task.add_done_callback(lambda _: setattr(self, "_starting", False))


changes = ChangeLog()
table = VersionTable()
