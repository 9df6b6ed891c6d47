"""One warning when a dependency (the database, the channel layer) stops answering,
one when it answers again, however many attempts fail in between: a restart would
otherwise log a warning per event or per retry."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("realtime")


class Outage:
    def __init__(self, what: str, consequence: str) -> None:
        self.what = what
        self.consequence = consequence
        self.since: float | None = None
        self.failures = 0
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self.failures += 1
            if self.since is not None:
                return
            self.since = time.monotonic()
        logger.warning("realtime: %s unavailable (%s), %s", self.what, error, self.consequence)

    def recovered(self) -> None:
        if self.since is None:
            return
        with self._lock:
            if self.since is None:
                return
            took, failures = time.monotonic() - self.since, self.failures
            self.since, self.failures = None, 0
        logger.warning("realtime: %s back after %.1f s (%d attempts failed meanwhile)",
                       self.what, took, failures)


database_outage = Outage("database", "retrying")
layer_outage = Outage("channel layer", "events go by the outbox until it is back")


class OncePerOutage(logging.Filter):
    """For channels_redis's receive loop, which logs a traceback every second while
    Redis is down: the first of a run of identical records passes, then one a minute."""

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self.last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = time.monotonic()
        if now - self.last.get(key, -self.every) < self.every:
            return False
        self.last[key] = now
        return True


def quiet_channels_redis() -> None:
    target = logging.getLogger("channels_redis.pubsub")
    if not any(isinstance(f, OncePerOutage) for f in target.filters):
        target.addFilter(OncePerOutage())
