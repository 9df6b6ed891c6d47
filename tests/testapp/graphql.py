"""The test tasks, reachable by any signed-in user (the demo's own tasks check permissions)."""

from typing import Any

import api_graphql
from tests.testapp.tasks import count_up, fail_with, retry_then_succeed, sign_in, wait_long


def signed_in(user: Any) -> bool:
    return bool(user.is_authenticated)


for task in (count_up, fail_with, retry_then_succeed, wait_long, sign_in):
    api_graphql.register_task(task, permission=signed_in)
