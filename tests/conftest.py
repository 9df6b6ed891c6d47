"""Shared fixtures: users in every permission role, and a GraphQL client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.test import Client

from api_graphql.schema import reset_schema

PASSWORD = "a-long-test-password"
ROLES = ("anonymous", "no_permission", "view_only", "all_permissions", "staff", "superuser")


@pytest.fixture(autouse=True)
def outbox_without_flush_records(request: pytest.FixtureRequest) -> None:
    """Between transactional tests Django empties SQLite tables with DELETE, which the
    capture triggers record like any delete (PostgreSQL's TRUNCATE fires no row
    trigger): a test starts from an empty outbox either way."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction")
    if not transactional and "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    if connection.vendor == "sqlite":
        from realtime.models import ChangeRecord

        ChangeRecord.objects.all().delete()


@pytest.fixture(autouse=True)
def fresh_schema() -> Iterator[None]:
    """Tests that change settings or the registry get a schema built for them."""
    yield
    reset_schema()


def exposed_permissions(actions: tuple[str, ...]) -> list[Permission]:
    from api_graphql.registry import site

    codenames = [
        (m._meta.app_label, f"{action}_{m._meta.model_name}")
        for m in site.exposed_models() for action in actions
    ]
    found = []
    for app_label, codename in codenames:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            found.append(permission)
    return found


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from django.contrib.auth import get_user_model

    accounts = get_user_model()._default_manager

    def make(username: str, *, staff: bool = False, superuser: bool = False,
             actions: tuple[str, ...] = ()) -> Any:
        if superuser:
            return accounts.create_superuser(username, f"{username}@example.com", PASSWORD)
        user = accounts.create_user(username, f"{username}@example.com", PASSWORD,
                                    is_staff=staff)
        if actions:
            user.user_permissions.set(exposed_permissions(actions))
        return user

    return make


@pytest.fixture
def role_users(make_user: Callable[..., Any]) -> dict[str, Any]:
    """One account per role of the permission matrix (anonymous is AnonymousUser)."""
    return {
        "anonymous": AnonymousUser(),
        "no_permission": make_user("nobody"),
        "view_only": make_user("viewer", actions=("view",)),
        "all_permissions": make_user("editor", actions=("view", "add", "change", "delete")),
        "staff": make_user("staffer", staff=True),
        "superuser": make_user("root", superuser=True),
    }


class GraphQLClient:
    """Django's test client speaking GraphQL over HTTP (through all middleware)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def login(self, user: Any) -> GraphQLClient:
        if getattr(user, "is_authenticated", False):
            self.client.force_login(user)
        return self

    def post(self, query: str, variables: dict[str, Any] | None = None,
             **headers: Any) -> Any:
        return self.client.post("/graphql", json.dumps({"query": query, "variables": variables}),
                                content_type="application/json", **headers)

    def __call__(self, query: str, variables: dict[str, Any] | None = None,
                 **headers: Any) -> dict[str, Any]:
        response = self.post(query, variables, **headers)
        assert response.status_code == 200, response.content
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def gql(db: Any) -> GraphQLClient:
    return GraphQLClient(Client())


@pytest.fixture
def gql_as(db: Any) -> Callable[[Any], GraphQLClient]:
    return lambda user: GraphQLClient(Client()).login(user)
