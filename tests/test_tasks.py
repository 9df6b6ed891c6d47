"""Celery tasks from GraphQL, run by a real worker process (never eager mode).

The worker is ``celery -A myproject worker`` on this run's broker: Redis when
REDIS_URL is set, else kombu's filesystem transport (the embedded demo's broker).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from api_graphql.tasks.models import TaskRun
from myproject.models import User
from realtime.models import ChangeRecord
from tests.workers import CeleryWorker, celery_worker

pytestmark = pytest.mark.django_db(transaction=True)

RUN = "id task_id task_name state current total message result error arguments started_by_id"


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[CeleryWorker]:
    with django_db_blocker.unblock(), celery_worker() as running:
        yield running


def wait_for(run_pk: Any, condition: Callable[[TaskRun], bool], timeout: float = 60) -> TaskRun:
    deadline = time.monotonic() + timeout
    while True:
        run = TaskRun.objects.get(pk=run_pk)
        if condition(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_pk} still {run.state} after {timeout}s")
        time.sleep(0.05)


def finished(run: TaskRun) -> bool:
    return run.state in TaskRun.FINAL


def start(client: Any, task: str, arguments: str = "") -> dict[str, Any]:
    call = f"start_{task}({arguments})" if arguments else f"start_{task}"
    answer = client(f"mutation {{ {call} {{ {RUN} }} }}")
    assert "errors" not in answer, answer
    run: dict[str, Any] = answer["data"][f"start_{task}"]
    return run


def states_published(run_pk: Any) -> list[str]:
    """The run's state after each change the capture recorded, in commit order: what
    subscribers receive. Walks back from the current state through each update's
    previous values (an update that left the state alone repeats it)."""
    records = list(ChangeRecord.objects.filter(
        model="api_graphql_tasks.taskrun", object_pk=str(run_pk)).order_by("id"))
    state = TaskRun.objects.get(pk=run_pk).state
    after = []
    for record in reversed(records):
        after.append(state)
        if record.previous and "state" in record.previous:
            state = record.previous["state"]
    return after[::-1]


def test_a_run_reports_progress_and_its_result(worker: CeleryWorker, make_user: Any,
                                               gql_as: Any) -> None:
    user = make_user("starter")
    run = start(gql_as(user), "count_up", "steps: 3")
    assert run["state"] == "PENDING"
    assert run["task_name"] == "count_up"
    assert run["arguments"] == {"steps": 3, "pause": 0.0}
    assert run["started_by_id"] == str(user.pk)
    done = wait_for(run["id"], finished)
    assert done.state == "SUCCESS", done.error
    assert done.result == {"steps": 3, "done": True}
    assert done.current == 3 and done.total == 3 and done.message == "step 3"
    assert done.started_at is not None and done.finished_at is not None
    assert done.started_at <= done.finished_at
    assert states_published(run["id"]) == [
        "PENDING", "STARTED", "PROGRESS", "PROGRESS", "PROGRESS", "SUCCESS"]


def test_a_failure_is_a_message_and_its_traceback_stays_on_the_server(
        worker: CeleryWorker, make_user: Any, gql_as: Any) -> None:
    client = gql_as(make_user("starter"))
    run = start(client, "fail_with", 'message: "the disk is full"')
    done = wait_for(run["id"], finished)
    assert done.state == "FAILURE"
    assert done.error == "ValueError: the disk is full"
    assert "Traceback" in done.traceback  # kept for the admin
    read = client(f'{{ task_run(pk: "{run["id"]}") {{ state error }} }}')
    assert read == {"data": {"task_run": {"state": "FAILURE",
                                          "error": "ValueError: the disk is full"}}}
    leak = client(f'{{ task_run(pk: "{run["id"]}") {{ traceback }} }}')
    assert leak.get("data") is None
    assert "Cannot query field 'traceback'" in leak["errors"][0]["message"]


def test_a_retried_task_goes_through_retry(worker: CeleryWorker, make_user: Any,
                                           gql_as: Any) -> None:
    run = start(gql_as(make_user("starter")), "retry_then_succeed", "times: 2")
    done = wait_for(run["id"], finished)
    assert done.state == "SUCCESS" and done.result == 2 and done.retries == 2
    assert states_published(run["id"]) == [
        "PENDING", "STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]


def test_a_revoked_run_stops(worker: CeleryWorker, make_user: Any, gql_as: Any) -> None:
    client = gql_as(make_user("starter"))
    run = start(client, "wait_long", "seconds: 120")
    wait_for(run["id"], lambda r: r.state == "PROGRESS")
    answer = client(f'mutation {{ revoke_task_run(pk: "{run["id"]}") {{ state }} }}')
    assert answer == {"data": {"revoke_task_run": {"state": "REVOKED"}}}
    # The worker terminates the task: the next one runs at once, not in two minutes.
    after = start(client, "count_up", "steps: 1")
    assert wait_for(after["id"], finished).state == "SUCCESS"
    assert TaskRun.objects.get(pk=run["id"]).state == "REVOKED"


def test_a_worker_killed_mid_task_fails_the_run(worker: CeleryWorker, make_user: Any,
                                                gql_as: Any) -> None:
    import os
    import signal

    client = gql_as(make_user("starter"))
    run = start(client, "wait_long", "seconds: 120")
    wait_for(run["id"], lambda r: r.state == "PROGRESS")
    (child,) = worker.pool_children()
    os.kill(child, signal.SIGKILL)
    done = wait_for(run["id"], finished)
    assert done.state == "FAILURE"
    assert "WorkerLostError" in done.error
    assert states_published(run["id"])[-2:] == ["PROGRESS", "FAILURE"]
    # The worker replaced its pool process and goes on.
    assert wait_for(start(client, "count_up", "steps: 1")["id"], finished).state == "SUCCESS"


def test_who_may_not_start_a_task_is_forbidden_and_nothing_is_queued(
        worker: CeleryWorker, make_user: Any, gql_as: Any) -> None:
    reader = make_user("reader")
    target = User.objects.create(email="new@example.com", username="new")
    query = f"mutation {{ start_send_welcome_email(user_id: {target.pk}) {{ id }} }}"
    answer = gql_as(reader)(query)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = gql_as(None)(query)
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not TaskRun.objects.exists()
    reader.user_permissions.add(Permission.objects.get(codename="change_user",
                                                       content_type__app_label="myproject"))
    allowed = gql_as(type(reader).objects.get(pk=reader.pk))(query)
    assert "errors" not in allowed, allowed
    sent = wait_for(allowed["data"]["start_send_welcome_email"]["id"], finished)
    assert sent.task_name == "send_welcome_email" and sent.state == "SUCCESS", sent.error
    assert sent.result == {"to": "new@example.com", "template": "welcome", "sent": 1}


def test_bad_arguments_are_refused_before_anything_is_queued(make_user: Any,
                                                             gql_as: Any) -> None:
    client = gql_as(make_user("starter"))
    for arguments in ('steps: "three"', "", "steps: 1, nope: 2", "steps: null"):
        answer = client(f"mutation {{ start_count_up{f'({arguments})' if arguments else ''} "
                        "{ id } }")
        assert answer.get("data") is None and answer["errors"], arguments
    assert not TaskRun.objects.exists()


def test_a_run_is_readable_by_its_starter_only(worker: CeleryWorker, make_user: Any,
                                               gql_as: Any) -> None:
    owner, other = make_user("owner"), make_user("other")
    run = start(gql_as(owner), "count_up", "steps: 1")
    wait_for(run["id"], finished)
    other_client = gql_as(other)
    assert other_client(f'{{ task_run(pk: "{run["id"]}") {{ id }} }}') == {
        "data": {"task_run": None}}
    assert other_client("{ task_run_count }") == {"data": {"task_run_count": 0}}
    refused = other_client(f'mutation {{ revoke_task_run(pk: "{run["id"]}") {{ id }} }}')
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    mine = gql_as(owner)("{ task_run_list(filters: {state: {exact: SUCCESS}}) { id task_name } }")
    assert mine == {"data": {"task_run_list": [{"id": run["id"], "task_name": "count_up"}]}}
    auditor = make_user("auditor")
    auditor.user_permissions.add(Permission.objects.get(codename="view_taskrun"))
    assert gql_as(type(auditor).objects.get(pk=auditor.pk))(
        f'{{ task_run(pk: "{run["id"]}") {{ id }} }}') == {"data": {"task_run": {"id": run["id"]}}}


def test_secret_arguments_are_not_recorded(worker: CeleryWorker, make_user: Any,
                                           gql_as: Any) -> None:
    run = start(gql_as(make_user("starter")), "sign_in",
                'username: "ada", api_key: "s3cr3t-value"')
    assert run["arguments"] == {"username": "ada"}
    done = wait_for(run["id"], finished)
    assert done.result == "ada:12"  # the task itself got the secret
    assert "s3cr3t" not in str(TaskRun.objects.filter(pk=run["id"]).values().get())
