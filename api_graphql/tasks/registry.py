"""Which Celery tasks the API may start, and who may start them.

A task is reachable only once registered, beside the app's models in its
``graphql.py``::

    # blog/graphql.py
    import api_graphql
    from blog.tasks import send_welcome_email

    api_graphql.register_task(send_welcome_email, permission="auth.change_user",
                              secret=["api_key"])

``permission`` is a Django permission (``"app_label.codename"``) or a callable
``(user) -> bool``; there is no default, because who may start a task is a decision
only the project can make.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from api_graphql.secrets import name_is_secret

Permission = str | Callable[[Any], bool]
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


@dataclass(frozen=True)
class TaskRegistration:
    task: Any
    name: str
    permission: Permission
    #: Arguments never written to the run record (besides secret-looking names,
    #: api_graphql.secrets).
    secret: frozenset[str] = field(default_factory=frozenset)
    description: str | None = None

    def may_start(self, user: Any) -> bool:
        if user is None or not getattr(user, "is_active", False):
            return False
        if callable(self.permission):
            return bool(self.permission(user))
        return bool(user.has_perm(self.permission))

    def is_secret(self, argument: str) -> bool:
        return argument in self.secret or name_is_secret(argument)

    def recorded_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments as the run record keeps them: secrets left out."""
        return {k: v for k, v in arguments.items() if not self.is_secret(k)}


class TaskRegistry:
    def __init__(self) -> None:
        self._tasks: dict[str, TaskRegistration] = {}

    def register(self, task: Any, *, permission: Permission, name: str | None = None,
                 secret: Iterable[str] = (), description: str | None = None) -> None:
        if not hasattr(task, "apply_async"):
            raise ImproperlyConfigured(
                f"register_task({task!r}): not a Celery task (decorate it with @shared_task)."
            )
        if not (isinstance(permission, str) or callable(permission)):
            raise ImproperlyConfigured(
                f"register_task({task.name}): permission must be 'app_label.codename' or a "
                "callable taking the user."
            )
        graphql_name = name or task.name.rsplit(".", 1)[-1]
        if not _NAME.match(graphql_name):
            raise ImproperlyConfigured(f"register_task: {graphql_name!r} is not a GraphQL name.")
        doc = (getattr(task, "__doc__", None) or "").strip() or None
        self._tasks[graphql_name] = TaskRegistration(
            task, graphql_name, permission, frozenset(secret), description or doc)

    def unregister(self, name: str) -> None:
        self._tasks.pop(name, None)

    def get(self, name: str) -> TaskRegistration | None:
        return self._tasks.get(name)

    def by_celery_name(self, celery_name: str) -> TaskRegistration | None:
        return next((r for r in self._tasks.values() if r.task.name == celery_name), None)

    def __iter__(self) -> Any:
        return iter(sorted(self._tasks.values(), key=lambda r: r.name))


tasks = TaskRegistry()


def register_task(task: Any, *, permission: Permission, name: str | None = None,
                  secret: Iterable[str] = (), description: str | None = None) -> Any:
    """Expose ``task`` as the mutation ``start_<name>``; returns the task unchanged."""
    tasks.register(task, permission=permission, name=name, secret=secret,
                   description=description)
    from api_graphql.schema import reset_schema

    reset_schema()
    return task
