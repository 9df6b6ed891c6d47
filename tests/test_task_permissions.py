"""The permission matrix's column for tasks: every registered task x every role.

Who may start a task is the project's decision (``register_task(permission=...)``); the
expected answer here is Django's own ``has_perm`` for a permission string and the
documented rule for a callable, never the registry's ``may_start``. Who may then read a
run is the matrix's owner-row rule (tests/matrix.py). No worker is needed: a start
queues a message and records the run; what a worker does with it is tests/test_tasks.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api_graphql.tasks.models import TaskRun
from api_graphql.tasks.registry import tasks
from myproject.models import Article, User
from tests.matrix import ALL_ROLES, make_role_users, readable_as, signed_in
from tests.workers import purge_broker

pytestmark = pytest.mark.django_db(transaction=True)


def needs(permission: str) -> Callable[[Any], bool]:
    return lambda user: signed_in(user) and bool(user.has_perm(permission))


#: Who the configuration says may start each task (myproject/graphql.py and
#: tests/testapp/graphql.py), and the arguments of one valid start. A task registered
#: without an entry here fails the test until it is given one.
EXPECTED: dict[str, tuple[Callable[[Any], bool], Callable[[Any], str]]] = {
    "send_welcome_email": (needs("myproject.change_user"), lambda target: f"user_id: {target.pk}"),
    "export_published_articles": (needs("myproject.view_article"), lambda target: ""),
    "count_up": (signed_in, lambda target: "steps: 1"),
    "fail_with": (signed_in, lambda target: 'message: "no"'),
    "retry_then_succeed": (signed_in, lambda target: "times: 1"),
    "wait_long": (signed_in, lambda target: "seconds: 0"),
    "sign_in": (signed_in, lambda target: 'username: "ada", api_key: "k"'),
}


@pytest.fixture
def empty_broker() -> Iterator[None]:
    """Starts queue real messages; none may reach a later test's worker."""
    purge_broker()
    yield
    purge_broker()


def test_task_column_of_the_permission_matrix(empty_broker: None, gql_as: Any) -> None:
    registered = sorted(r.name for r in tasks)
    assert registered == sorted(EXPECTED), "give each registered task its expected rule"
    users = make_role_users([User, Article, TaskRun])
    target = User.objects.create(username="target", email="target@example.com")
    wrong: list[str] = []
    started: dict[str, list[str]] = {}
    for role in ALL_ROLES:
        user = users[role]
        client = gql_as(user if signed_in(user) else None)
        for name in registered:
            may, arguments = EXPECTED[name]
            args = arguments(target)
            call = f"start_{name}({args})" if args else f"start_{name}"
            answer = client(f"mutation {{ {call} {{ id started_by_id task_name }} }}")
            if may(user):
                run = (answer.get("data") or {}).get(f"start_{name}")
                if not run or answer.get("errors") or run["task_name"] != name:
                    wrong.append(f"{role} {name}: expected a run, got {answer}")
                    continue
                started.setdefault(role, []).append(run["id"])
            else:
                codes = [e.get("extensions", {}).get("code") for e in answer.get("errors", [])]
                if codes != ["FORBIDDEN"] or (answer.get("data") or {}).get(f"start_{name}"):
                    wrong.append(f"{role} {name}: expected FORBIDDEN, got {answer}")
    assert not wrong, "\n".join(wrong)
    # Every refused start recorded nothing; every allowed one exactly its run, by its user.
    runs = list(TaskRun.objects.all())
    assert sorted(str(r.pk) for r in runs) == sorted(pk for pks in started.values() for pk in pks)
    for role, pks in started.items():
        assert {r.started_by_id for r in runs if str(r.pk) in pks} == {users[role].pk}, role
    assert "superuser" in started and "anonymous" not in started and "no_permission" in started
    # Reading runs: each role sees exactly the runs Django's rules (owner or view) allow.
    for role in ALL_ROLES:
        user = users[role]
        client = gql_as(user if signed_in(user) else None)
        answer = client("{ task_run_list(limit: 100) { id } task_run_count }")
        expected = sorted(str(r.pk) for r in runs
                          if signed_in(user) and readable_as(user, TaskRun, r))
        if answer.get("errors"):
            assert not expected and not any_code_but_forbidden(answer), (role, answer)
            continue
        seen = sorted(row["id"] for row in answer["data"]["task_run_list"])
        assert seen == expected, role
        assert answer["data"]["task_run_count"] == len(expected), role


def any_code_but_forbidden(answer: dict[str, Any]) -> bool:
    return any(e.get("extensions", {}).get("code") != "FORBIDDEN" for e in answer["errors"])
