"""The consistency cursor: read-your-writes across workers without a query per read.

Every mutation answered over HTTP carries ``X-Consistency-Cursor``: the stream
positions once its writes were sequenced (``myproject.article:42,myproject.user:7``). A client
that sends the latest cursor it got back with its next requests gets answers at
least that fresh from any worker: one whose in-memory versions (``RESULT_CACHE =
"stream"``) have not reached the cursor yet asks the database instead of serving
from memory. ``ts_client`` does this by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Consistency-Cursor"
MAX_ENTRIES = 64
MAX_LENGTH = 4096

Cursor = dict[str, int]
_written: ContextVar[Cursor | None] = ContextVar("api_graphql_written", default=None)


@contextmanager
def collecting() -> Iterator[Cursor]:
    """The positions this block's committed writes reach, filled as they are sequenced."""
    written: Cursor = {}
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


def collecting_now() -> bool:
    """Whether a request is collecting its writes' positions (see :func:`collecting`)."""
    return _written.get() is not None


def note(label: str, seq: int) -> None:
    """A change of ``label`` got ``seq`` (called by whoever sequences the changes)."""
    written = _written.get()
    if written is not None and seq > written.get(label, 0):
        written[label] = seq


def encode(cursor: Cursor) -> str:
    return ",".join(f"{label}:{seq}" for label, seq in sorted(cursor.items()))


def decode(text: str | None) -> Cursor | None:
    """A cursor a client sent back; None when absent or malformed (then it asks nothing)."""
    if not text or len(text) > MAX_LENGTH:
        return None
    cursor: Cursor = {}
    for part in text.split(",")[:MAX_ENTRIES]:
        label, _, seq = part.strip().rpartition(":")
        if not label or not seq.isdigit():
            return None
        cursor[label] = max(int(seq), cursor.get(label, 0))
    return cursor

