"""A Celery result backend that keeps each task's state in its :class:`TaskRun` row.

Configured with ``CELERY_RESULT_BACKEND = "api_graphql.tasks.backend:TaskRunBackend"``.
The worker stores every state through here: STARTED (``task_track_started``),
PROGRESS and any custom state from ``update_state``, RETRY, SUCCESS, FAILURE
(including a worker lost mid-task) and REVOKED. Each store is an ORM save, so the
realtime capture publishes it like any other change; a run started from Python
(``task.delay()``) gets its row here on its first state.
"""

from __future__ import annotations

import json
from typing import Any

from celery import states
from celery.backends.base import BaseBackend
from django.core.serializers.json import DjangoJSONEncoder
from django.db import (
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)
from django.utils import timezone

from api_graphql.tasks.models import TaskRun

_MESSAGE_LENGTH = TaskRun._meta.get_field("message").max_length or 500


def json_value(value: Any) -> Any:
    """``value`` as JSON keeps it (dates as ISO text; anything else as its str)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def error_text(encoded: Any) -> str:
    """``ValueError: message`` from Celery's JSON form of an exception."""
    if not isinstance(encoded, dict):
        return str(encoded)
    message = encoded.get("exc_message")
    if isinstance(message, list | tuple):
        message = ", ".join(str(part) for part in message)
    kind = encoded.get("exc_type") or "Error"
    return f"{kind}: {message}" if message else str(kind)


def _number(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class TaskRunBackend(BaseBackend):
    persistent = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Celery's own retry loop, for a connection that died under us (the worker's
        # pool process was killed while holding it, the database restarted).
        # A few tries only: a pool process being terminated (revoke) fails every try.
        self.always_retry = True
        self.max_retries = 3

    def exception_safe_to_retry(self, exc: BaseException) -> bool:
        return isinstance(exc, OperationalError | InterfaceError)

    def on_backend_retryable_error(self, exc: BaseException) -> None:
        # Only connections that are dead: a busy database ("locked") is simply retried,
        # and the task may be in the middle of its own queries on the same connection.
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None and not connection.is_usable():
                connection.close()

    def _store_result(self, task_id: str, result: Any, state: str, traceback: Any = None,
                      request: Any = None, **kwargs: Any) -> Any:
        # No close_old_connections() here: a task calls update_state in the middle of
        # its own queries (an open cursor); Celery's Django fixup closes between tasks.
        with transaction.atomic():
            run = TaskRun.objects.select_for_update().filter(task_id=task_id).first()
            if run is None:
                name = getattr(request, "task", None) or ""
                run = TaskRun(task_id=task_id, task_name=self._registered_name(name))
            elif run.state in TaskRun.FINAL:
                # A revoked run stays revoked, a finished one finished: a late or
                # duplicate message (a redelivery after a lost worker) changes nothing.
                return result
            self._apply(run, result, state, traceback, request)
            run.save()
        return result

    @staticmethod
    def _registered_name(celery_name: str) -> str:
        from api_graphql.tasks.registry import tasks

        registration = tasks.by_celery_name(celery_name)
        return registration.name if registration is not None else celery_name

    def _apply(self, run: TaskRun, result: Any, state: str, traceback: Any,
               request: Any) -> None:
        now = timezone.now()
        run.state = state if state in TaskRun.State.values else TaskRun.State.PROGRESS
        if request is not None:
            run.worker = str(getattr(request, "hostname", "") or run.worker)
            run.retries = int(getattr(request, "retries", 0) or 0)
        if state == states.STARTED:
            run.started_at = run.started_at or now
            run.current = run.total = None
            run.message = ""
        elif state == states.SUCCESS:
            run.result = json_value(result)
        elif state in (states.FAILURE, states.RETRY, states.REVOKED):
            run.error = error_text(result)
            run.traceback = str(traceback or "")
        else:  # PROGRESS or a custom state: update_state's meta
            meta = result if isinstance(result, dict) else {}
            run.current = _number(meta.get("current"))
            run.total = _number(meta.get("total"))
            run.message = str(meta.get("message") or "")[:_MESSAGE_LENGTH]
        if state in states.READY_STATES:
            run.finished_at = now

    def _get_task_meta_for(self, task_id: str) -> dict[str, Any]:
        run = TaskRun.objects.filter(task_id=task_id).first()
        if run is None:
            return {"status": states.PENDING, "result": None}
        result: Any = run.result
        if run.state in (states.FAILURE, states.RETRY, states.REVOKED):
            kind, _, message = run.error.partition(": ")
            result = {"exc_type": kind, "exc_message": [message], "exc_module": "builtins"}
        elif run.state not in states.READY_STATES and run.state != states.STARTED:
            result = {"current": run.current, "total": run.total, "message": run.message}
        return self.meta_from_decoded({
            "task_id": task_id, "status": run.state, "result": result,
            "traceback": run.traceback or None, "children": [],
            "date_done": run.finished_at,
        })

    def _forget(self, task_id: str) -> None:
        TaskRun.objects.filter(task_id=task_id).delete()
