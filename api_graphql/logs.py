"""Operation logs and counters: one line per GraphQL request, readable by machines.

Every HTTP operation is logged on ``api_graphql.operations`` (INFO) with its type,
name, duration and status, and counted in :data:`operations`, which the metrics
endpoint (``realtime.metrics``) exposes. :class:`JsonFormatter` turns any log
record into one JSON object per line, so a log shipper needs no parsing rules;
``LOG_FORMAT=json`` selects it in the demo project.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from api_graphql.execution import PreparedOperation

logger = logging.getLogger("api_graphql.operations")

#: (operation type, outcome) -> requests served by this process; outcome is "ok" or
#: "error" (the response carries GraphQL errors or an error status).
operations: Counter[tuple[str, str]] = Counter()
#: Requests answered on the event loop from the result cache (``api_graphql.asgi``).
loop_answers: Counter[str] = Counter()

# Attributes every LogRecord has; anything else was passed with ``extra=`` and
# belongs in the JSON object.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


def operation(prepared: PreparedOperation | None, started: float, status: int,
              body: dict[str, Any]) -> None:
    """Count and log one executed request. ``prepared`` is None when the document did
    not parse or validate; ``started`` is a ``time.perf_counter()`` reading."""
    kind = prepared.kind if prepared is not None else "invalid"
    name = prepared.operation.name if prepared is not None else None
    errors = len(body.get("errors") or ())
    outcome = "error" if errors or status >= 400 else "ok"
    operations[(kind, outcome)] += 1
    if logger.isEnabledFor(logging.INFO):
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        label = name.value if name is not None else "(anonymous)"
        logger.info("%s %s %s in %.1f ms", kind, label, status, duration_ms,
                    extra={"operation_type": kind, "operation_name": label,
                           "status": status, "duration_ms": duration_ms, "errors": errors})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and every ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()
