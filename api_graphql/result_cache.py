"""A result cache for read queries that the change stream keeps exact.

A cached response records, for every model it read (through relations, filters
and row rules), that model's change version when it was computed. A request
reads the current versions (one small query) and serves the cached response if
none moved, or if none of the changes in between could change it (told by the
answer's :mod:`~api_graphql.footprint` from each change's pk and changed fields).
Versions and changes come from sources plugged in from outside: ``realtime``
provides the outbox positions, which advance with every captured write, and the
outbox rows themselves, so a hot query costs no database work beyond that check and
is never older than the last sequenced change. Without a version source nothing is
cached; without a change source any change of a model drops its answers.

The database captures every write to an exposed model's table (realtime's triggers);
``RESULT_CACHE_TTL`` bounds how long a change outside them (a database without the
triggers installed) could go unseen.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from django.db import connection

from api_graphql.conf import graphql_settings
from api_graphql.footprint import Change, Footprint

#: Given stream labels (and the client's consistency cursor), their current versions
#: in the same order. It may also offer ``in_memory(labels, cursor)``: the versions
#: without database work, or None when they cannot be told that way.
VersionSource = Callable[[tuple[str, ...], dict[str, int] | None], tuple[int, ...]]
_version_source: VersionSource | None = None
#: Given a stream label and two of its versions, the changes in between (in order),
#: or None when they are no longer known; with ``memory_only``, None also when
#: telling would need the database.
ChangeSource = Callable[[str, int, int, bool], Sequence[Change] | None]
_change_source: ChangeSource | None = None
#: How long a request waits for another computing the same answer (seconds).
FLIGHT_WAIT = 10.0


def set_version_source(source: VersionSource | None) -> None:
    global _version_source
    _version_source = source


def version_source() -> VersionSource | None:
    return _version_source


def set_change_source(source: ChangeSource | None) -> None:
    global _change_source
    _change_source = source


@dataclass(frozen=True)
class Entry:
    labels: tuple[str, ...]
    versions: tuple[int, ...]
    result: dict[str, Any]
    expires: float
    footprint: Footprint
    #: Primary keys (text) of the rows the answer contains, by stream label.
    rows: dict[str, set[str]]
    #: The answer as JSON, once a request needed it (shared by revalidated copies).
    encoded: list[bytes] = field(default_factory=list)

    def as_json(self) -> bytes:
        if not self.encoded:
            self.encoded.append(orjson.dumps(self.result))
        return self.encoded[0]


class ResultCache:
    """Responses by (document, variables, permission scope), with their versions.

    An entry whose versions moved is not dropped at once: the changes in between are
    read from the change source and the entry survives (at the new versions) unless
    one of them could change it. Concurrent misses of one key compute it once.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._flights: dict[tuple[Any, ...], threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        #: Hits after changes that could not change the answer.
        self.revalidated = 0
        #: Misses that waited for another request computing the same answer.
        self.coalesced = 0

    def get(self, key: tuple[Any, ...], labels: tuple[str, ...], versions: tuple[int, ...],
            memory_only: bool = False) -> dict[str, Any] | None:
        """The cached answer, or None. ``memory_only`` (on the event loop): no database
        work, and a miss is not counted (the request goes on to the full path)."""
        entry = self.entry(key, labels, versions, memory_only)
        return None if entry is None else entry.result

    def entry(self, key: tuple[Any, ...], labels: tuple[str, ...], versions: tuple[int, ...],
              memory_only: bool = False) -> Entry | None:
        """The entry behind :meth:`get` (its answer also as JSON bytes)."""
        entry = self._entries.get(key)
        if entry is None or entry.expires < time.monotonic() or entry.labels != labels:
            self.misses += not memory_only
            return None
        if entry.versions != versions:
            if not self._survives(entry, versions, memory_only):
                if memory_only:
                    return None
                self.misses += 1
                with self._lock:
                    if self._entries.get(key) is entry:
                        del self._entries[key]
                return None
            entry, stale = replace(entry, versions=versions), entry
            with self._lock:
                if self._entries.get(key) is stale:
                    self._entries[key] = entry
            self.revalidated += 1
        self.hits += 1
        return entry

    def _survives(self, entry: Entry, versions: tuple[int, ...], memory_only: bool) -> bool:
        source = _change_source
        if source is None:
            return False
        for label, before, now in zip(entry.labels, entry.versions, versions, strict=True):
            if now == before:
                continue
            if now < before:
                return False
            changes = source(label, before, now, memory_only)
            if changes is None:
                return False
            if any(entry.footprint.affected_by(label, change, entry.rows)
                   for change in changes):
                return False
        return True

    def put(self, key: tuple[Any, ...], labels: tuple[str, ...], versions: tuple[int, ...],
            result: dict[str, Any], footprint: Footprint, rows: dict[str, set[str]]) -> None:
        conf = graphql_settings()
        entry = Entry(labels, versions, result, time.monotonic() + conf.result_cache_ttl,
                      footprint, rows)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > conf.result_cache_size:
                self._entries.popitem(last=False)

    @contextmanager
    def flight(self, key: tuple[Any, ...]) -> Iterator[bool]:
        """One computation per key at a time: True for the request that computes;
        the others wait for it (bounded) and get False, then look again."""
        with self._lock:
            running = self._flights.get(key)
            if running is None:
                running = self._flights[key] = threading.Event()
                leader = True
            else:
                leader = False
                self.coalesced += 1
        if not leader:
            running.wait(FLIGHT_WAIT)
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                self._flights.pop(key, None)
            running.set()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def current_versions(labels: Iterable[str], cursor: dict[str, int] | None = None
                     ) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    source = _version_source
    if source is None or not graphql_settings().result_cache:
        return None
    if connection.in_atomic_block:
        return None  # the transaction may see its own uncommitted writes

    ordered = tuple(sorted(labels))
    return ordered, source(ordered, cursor)


def memory_versions(labels: Iterable[str], cursor: dict[str, int] | None
                    ) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    """The versions without database work (for the event loop), or None."""
    in_memory = getattr(_version_source, "in_memory", None)
    if in_memory is None or not graphql_settings().result_cache:
        return None
    ordered = tuple(sorted(labels))
    found = in_memory(ordered, cursor)
    return None if found is None else (ordered, found)

