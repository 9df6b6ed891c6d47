"""Celery tasks started from GraphQL: registration, run records, a result backend.

Add ``"api_graphql.tasks"`` to INSTALLED_APPS, set
``CELERY_RESULT_BACKEND = "api_graphql.tasks.backend:TaskRunBackend"`` and
``CELERY_TASK_TRACK_STARTED = True``, and register tasks in an app's ``graphql.py``
with :func:`register_task`.
"""

from api_graphql.tasks.registry import register_task, tasks

__all__ = ["register_task", "tasks"]
