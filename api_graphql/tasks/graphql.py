"""How runs are exposed: to the user who started them, and to holders of ``view_taskrun``.

The traceback is never exposed (the admin shows it); ``error`` says what failed.
Runs are written by the API and the worker only, so there are no model mutations.
"""

from typing import Any

from django.db.models import Q

import api_graphql
from api_graphql.tasks.models import TaskRun


@api_graphql.register(TaskRun)
class TaskRunConfig(api_graphql.ModelConfig):
    exclude = ["traceback"]
    mutations = False
    read_filter_reads_only_user = True  # permissions and the user's pk

    def read_filter(self, user: Any) -> bool | Q:
        if super().read_filter(user) is True:
            return True
        if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
            return Q(started_by=user.pk)
        return False
