"""A run of a registered Celery task, as data: one row per start, kept current by the worker.

The row is written by the API when it queues a task (PENDING, who started it, the
arguments minus secrets) and then by the worker through the result backend
(:mod:`api_graphql.tasks.backend`), so every state change is an ORM save that the
realtime capture turns into a subscription event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TaskRun(models.Model):
    class State(models.TextChoices):
        PENDING = "PENDING"
        STARTED = "STARTED"
        PROGRESS = "PROGRESS"
        RETRY = "RETRY"
        SUCCESS = "SUCCESS"
        FAILURE = "FAILURE"
        REVOKED = "REVOKED"

    #: States after which the worker writes nothing more.
    FINAL = frozenset({State.SUCCESS, State.FAILURE, State.REVOKED})

    task_id = models.CharField(max_length=64, unique=True)
    #: The registered name (the GraphQL one), or Celery's for runs started from Python.
    task_name = models.CharField(max_length=200, db_index=True)
    arguments = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING,
                             db_index=True)
    current = models.IntegerField(null=True, blank=True)
    total = models.IntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    #: The failure as a client may see it: the exception's class and message.
    error = models.TextField(blank=True, default="")
    #: The full traceback, for the admin and staff only (never exposed by the API).
    traceback = models.TextField(blank=True, default="")
    retries = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["started_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id} {self.state}"
