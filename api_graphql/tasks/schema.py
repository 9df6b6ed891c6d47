"""The root fields of registered tasks: ``start_<task>`` and ``revoke_task_run``.

A start checks the registration's permission, lets GraphQL's own coercion refuse
bad arguments (nothing is queued for a request that does not validate), records
the run (PENDING, its starter, the arguments minus secrets) and only then queues
the task under the run's id, so the worker always finds the row it updates.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import strawberry
from django.utils import timezone

from api_graphql import type_factory
from api_graphql.errors import GraphQLUserError, PermissionDenied
from api_graphql.model_graph import ModelGraph, ModelSpec
from api_graphql.root_fields import RootField
from api_graphql.selection import FieldSelection
from api_graphql.tasks.arguments import recordable, task_arguments
from api_graphql.tasks.models import TaskRun
from api_graphql.tasks.registry import TaskRegistration, tasks
from api_graphql.type_factory import REQUIRED

if TYPE_CHECKING:
    from api_graphql.context import RequestContext

logger = logging.getLogger(__name__)


class Unavailable(GraphQLUserError):
    code = "UNAVAILABLE"


def may_manage(user: Any, run: TaskRun) -> bool:
    """The starter, or whoever holds ``change_taskrun``, may revoke a run."""
    if user is None or not getattr(user, "is_active", False):
        return False
    return run.started_by_id == user.pk or bool(user.has_perm("api_graphql_tasks.change_taskrun"))


def _start_field(registration: TaskRegistration, spec: ModelSpec) -> RootField:
    arguments = task_arguments(registration.task.name, registration.task.run)

    def start(context: RequestContext, selection: FieldSelection) -> Any:
        user = context.user
        if not registration.may_start(user):
            raise PermissionDenied(f"You do not have permission to start {registration.name}.")
        values = {a.name: selection.args[a.name] for a in arguments if a.name in selection.args}
        recorded = registration.recorded_arguments(values)
        run = TaskRun.objects.create(
            task_id=str(uuid.uuid4()), task_name=registration.name,
            arguments={k: recordable(v) for k, v in recorded.items()},
            started_by=user if getattr(user, "is_authenticated", False) else None,
        )
        try:
            registration.task.apply_async(kwargs=values, task_id=run.task_id)
        except Exception as error:  # the broker is down or refuses the message
            logger.error("api_graphql: could not queue %s: %s", registration.name, error)
            run.state, run.error, run.finished_at = (
                TaskRun.State.FAILURE, "The task could not be queued.", timezone.now())
            run.save()
            raise Unavailable(f"{registration.name} could not be queued; try again.") from None
        return context.reader.node(spec, run.pk, selection.children or {})

    return RootField(
        f"start_{registration.name}", "mutation", type_factory.ref(spec.type_name), start,
        {a.name: (a.annotation, a.default) for a in arguments},
        registration.description or f"Queue the Celery task {registration.task.name}.",
    )


def _revoke_field(spec: ModelSpec) -> RootField:
    def revoke(context: RequestContext, selection: FieldSelection) -> Any:
        pk = selection.args["pk"]
        try:
            run = TaskRun.objects.get(pk=int(pk))
        except (TaskRun.DoesNotExist, ValueError):
            run = None
        if run is None or not may_manage(context.user, run):
            # Someone else's run is "not found", like a missing one.
            raise GraphQLUserError(f"{spec.type_name} {pk} not found.", code="NOT_FOUND")
        if run.state not in TaskRun.FINAL:
            run.state, run.finished_at = TaskRun.State.REVOKED, timezone.now()
            run.error = "Revoked."
            run.save()
            registration = tasks.by_celery_name(run.task_name) or tasks.get(run.task_name)
            app = registration.task.app if registration is not None else None
            if app is not None:
                # terminate: a running task is stopped too, not only a queued one.
                app.control.revoke(run.task_id, terminate=True)
        return context.reader.node(spec, run.pk, selection.children or {})

    return RootField(
        "revoke_task_run", "mutation", type_factory.ref(spec.type_name), revoke,
        {"pk": (strawberry.ID, REQUIRED)},
        "Revoke a run you started (or any, with change_taskrun): a queued task never "
        "runs, a running one is terminated.",
    )


def _status_field(spec: ModelSpec) -> RootField:
    def status(context: RequestContext, selection: FieldSelection) -> Any:
        return context.reader.node(spec, selection.args["pk"], selection.children or {})

    # Not cacheable, unlike task_run: a watcher reads the row here when its subscription
    # starts, and the worker's writes come from another process.
    return RootField(
        "task_run_status", "query", type_factory.ref(spec.type_name) | None, status,
        {"pk": (strawberry.ID, REQUIRED)},
        "A run as it is now, read from the database (never from the result cache).",
    )


def task_root_fields(graph: ModelGraph) -> list[RootField]:
    registrations = list(tasks)
    if not registrations:
        return []
    spec = graph.get(TaskRun)
    if spec is None:
        # A schema without runs (a registry that leaves TaskRun out) has no tasks either.
        logger.warning("api_graphql: TaskRun is not exposed, so no task can be started.")
        return []
    return [*(_start_field(r, spec) for r in registrations), _revoke_field(spec),
            _status_field(spec)]
