"""Change versions per model, the result cache's version source.

A model's version is the seq of its last sequenced change. By default
(``RESULT_CACHE = "exact"``) they are read from the outbox positions: one small
query, and a cached read is never older than the last committed change. With
``"stream"`` and Redis, the hub of each server process hears every change as it is
published (it listens to every model) and keeps the versions in memory, so a
cached read costs no database work; another worker's write shows once its event
arrives, and the hub's poll re-reads the positions every few seconds so even a
lost message is caught. Without a running hub the database is asked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from api_graphql.conf import graphql_settings
from realtime.events import ChangeEvent
from realtime.sequencer import all_positions, versions_from_database


class VersionTable:
    def __init__(self) -> None:
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()
        #: True while a hub keeps the table current from the change stream.
        self.live = False

    def observe(self, events: Iterable[ChangeEvent]) -> None:
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

    def __call__(self, labels: tuple[str, ...]) -> tuple[int, ...]:
        from realtime.hub import running_hub

        if (not self.live or running_hub() is None
                or graphql_settings().result_cache != "stream"):
            return versions_from_database(labels)
        known = self._known
        return tuple(known.get(label, 0) for label in labels)


table = VersionTable()
