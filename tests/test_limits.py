"""Limits that are on by default: one test per limit, at its default value and moved by
settings. The WebSocket limits run against a real daphne process."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from graphql import build_client_schema

from api_graphql.conf import GraphQLSettings, graphql_settings
from myproject.models import Article, Tag, User
from tests.conftest import GraphQLClient
from tests.servers import DaphneServer
from tests.ws_client import GraphQLSocket

#: Every default limit, as documented (the final report of issue 3 lists these).
DEFAULT_LIMITS = {
    "default_page_size": 100,
    "max_page_size": 1000,
    "max_depth": 12,
    "max_aliases": 50,
    "max_complexity": 100_000,
    "max_query_length": 100_000,
    "introspection": "staff",
    "token_max_age": 3600,
    "login_attempts": 5,
    "login_window": 300,
    "ws_max_message_size": 256 * 1024,
    "ws_max_subscriptions": 100,
    "ws_ping_interval": 15.0,
    "ws_pong_timeout": 30.0,
    "ws_init_timeout": 10.0,
    "ws_send_buffer": 1000,
    "ws_unacknowledged_limit": 4 * 1024 * 1024,
}


def test_the_documented_defaults() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(GraphQLSettings)}
    assert {name: defaults[name] for name in DEFAULT_LIMITS} == DEFAULT_LIMITS
    # The demo settings do not move any of them.
    current = graphql_settings()
    assert {name: getattr(current, name) for name in DEFAULT_LIMITS} == DEFAULT_LIMITS


def limit_of(result: dict[str, Any]) -> str | None:
    """The limit a refused request names (extensions.limit), or its code."""
    errors = result.get("errors") or []
    assert result.get("data") is None, result
    extensions = errors[0].get("extensions", {})
    assert extensions.get("code") == "LIMIT_EXCEEDED", result
    return extensions.get("limit")  # type: ignore[no-any-return]


@pytest.fixture
def admin(gql_as: Any, make_user: Any) -> GraphQLClient:
    return gql_as(make_user("root", superuser=True))  # type: ignore[no-any-return]


def nested(depth: int) -> str:
    """A query exactly ``depth`` fields deep: tag_list { articles { tags { ... id } } }."""
    names = ["tag_list", *(["articles", "tags"] * depth)][: depth - 1]
    body = "id"
    for name in reversed(names):
        body = f"{name}(limit: 1) {{ {body} }}"
    return "{ " + body + " }"


@pytest.mark.django_db
def test_depth(admin: GraphQLClient) -> None:
    Tag.objects.create(name="t")
    assert "errors" not in admin(nested(12))
    assert limit_of(admin(nested(13))) == "depth"
    with override_settings(API_GRAPHQL={"MAX_DEPTH": 3}):
        assert "errors" not in admin(nested(3))
        assert limit_of(admin(nested(4))) == "depth"


@pytest.mark.django_db
def test_aliases(admin: GraphQLClient) -> None:
    def aliased(n: int) -> str:
        return "{ " + " ".join(f"a{i}: tag_count" for i in range(n)) + " }"

    assert admin(aliased(50))["data"]["a49"] == 0
    assert limit_of(admin(aliased(51))) == "aliases"
    with override_settings(API_GRAPHQL={"MAX_ALIASES": 2}):
        assert limit_of(admin(aliased(3))) == "aliases"


@pytest.mark.django_db
def test_complexity(admin: GraphQLClient) -> None:
    """Lists count once per row they may return: 1000 tags x 1000 articles is refused
    before any database work; 100 x 100 is fine."""
    assert "errors" not in admin("{ tag_list(limit: 100) { articles(limit: 100) { id } } }")
    huge = "{ tag_list(limit: 1000) { articles(limit: 1000) { id title } } }"
    assert limit_of(admin(huge)) == "complexity"
    # Default page sizes count too: 100 x 100 x 100 = 1,000,000.
    assert limit_of(admin("{ tag_list { articles { tags { id } } } }")) == "complexity"
    with override_settings(API_GRAPHQL={"MAX_COMPLEXITY": 50}):
        assert limit_of(admin("{ tag_list(limit: 100) { id } }")) == "complexity"
        assert "errors" not in admin("{ tag_list(limit: 10) { id } }")


@pytest.mark.django_db
def test_page_size(admin: GraphQLClient) -> None:
    Tag.objects.bulk_create(Tag(name=f"t{i}") for i in range(1001))
    assert len(admin("{ tag_list { id } }")["data"]["tag_list"]) == 100
    assert len(admin("{ tag_list(limit: 1000) { id } }")["data"]["tag_list"]) == 1000
    edges = admin("{ tag_connection { edges { node { id } } } }")["data"]["tag_connection"]
    assert len(edges["edges"]) == 100
    for query in ("{ tag_list(limit: 1001) { id } }",
                  "{ tag_connection(first: 1001) { total_count } }",
                  "{ article_list(limit: 1) { tags(limit: 1001) { id } } }",
                  "{ tag_list(offset: -1) { id } }"):
        if "article_list" in query and not Article.objects.exists():
            author = User.objects.create(email="a@example.com", username="a")
            Article.objects.create(title="a", content="c", author=author)
        result = admin(query)
        assert result.get("data") is None, (query, result)
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", result
    with override_settings(API_GRAPHQL={"DEFAULT_PAGE_SIZE": 5, "MAX_PAGE_SIZE": 10}):
        assert len(admin("{ tag_list { id } }")["data"]["tag_list"]) == 5
        assert admin("{ tag_list(limit: 11) { id } }")["data"] is None


@pytest.mark.django_db
def test_query_length(admin: GraphQLClient) -> None:
    base = "{ tag_count }"
    assert admin(base + " " * (100_000 - len(base)))["data"] == {"tag_count": 0}
    response = admin.post(base + " " * (100_001 - len(base)))
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.mark.django_db
def test_introspection_is_for_staff_when_debug_is_off(gql_as: Any, role_users: Any) -> None:
    def answer(role: str, query: str = INTROSPECTION) -> dict[str, Any]:
        return gql_as(role_users[role])(query)  # type: ignore[no-any-return]

    for role in ("anonymous", "no_permission", "view_only", "all_permissions"):
        refused = answer(role)
        assert refused.get("data") is None, role
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
        type_query = answer(role, '{ __type(name: "Article") { name } }')
        assert type_query["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
        # __typename is not introspection.
        assert answer(role, "{ __typename }") == {"data": {"__typename": "Query"}}
    for role in ("staff", "superuser"):
        assert answer(role) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}, role
    with override_settings(DEBUG=True):
        assert answer("anonymous") == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    with override_settings(API_GRAPHQL={"INTROSPECTION": "always"}):
        assert "errors" not in answer("anonymous")
    with override_settings(API_GRAPHQL={"INTROSPECTION": "never"}, DEBUG=True):
        assert answer("superuser")["errors"][0]["extensions"]["code"] == "FORBIDDEN"


#: graphql-js' getIntrospectionQuery with every option (ts_client's unit tests check the copy).
STANDARD_INTROSPECTION = (
    Path(__file__).parent / "snapshots" / "introspection_query.graphql").read_text()


@pytest.mark.django_db
def test_the_standard_introspection_query_answers(gql_as: Any, role_users: Any) -> None:
    """What GraphiQL's Docs panel, graphql-codegen and Postman send is 15 levels deep:
    introspection is bounded by graphql-core's introspection depth rule, not MAX_DEPTH."""
    from api_graphql.schema import get_schema

    result = gql_as(role_users["staff"])(STANDARD_INTROSPECTION)
    assert "errors" not in result, result["errors"]
    rebuilt = build_client_schema(result["data"])

    def shape(schema: Any) -> dict[str, list[str]]:
        return {name: sorted(getattr(t, "fields", None) or getattr(t, "values", None) or [])
                for name, t in schema.type_map.items()}

    assert shape(rebuilt) == shape(get_schema().graphql_schema)
    article = rebuilt.get_type("Article")
    assert article is not None and article.description, "descriptions come along"
    assert "author" in article.fields  # type: ignore[attr-defined]
    refused = gql_as(role_users["view_only"])(STANDARD_INTROSPECTION)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    with override_settings(DEBUG=True):
        assert "errors" not in gql_as(role_users["anonymous"])(STANDARD_INTROSPECTION)
    # Data keeps its depth limit: the same 15 levels through relations are refused.
    assert limit_of(gql_as(role_users["superuser"])(nested(15))) == "depth"


@pytest.mark.django_db
def test_introspection_has_its_own_depth_bound(gql_as: Any, make_user: Any) -> None:
    staff = gql_as(make_user("staffer", staff=True))
    three_lists = ("{ __schema { types { fields { type { fields { type { fields { name } } } } } }"
                   " } }")
    refused = staff(three_lists)
    assert refused.get("data") is None
    assert refused["errors"][0]["message"] == "Maximum introspection depth exceeded"
    two_lists = "{ __schema { types { fields { type { fields { name } } } } } }"
    assert "errors" not in staff(two_lists)


@pytest.mark.django_db
def test_introspection_does_not_bypass_complexity(gql_as: Any, make_user: Any) -> None:
    staff = gql_as(make_user("staffer", staff=True, actions=("view",)))
    huge = "tag_list(limit: 1000) { articles(limit: 1000) { id title } }"
    assert limit_of(staff("{ " + huge + " }")) == "complexity"
    assert limit_of(staff("{ __schema { queryType { name } } " + huge + " }")) == "complexity"


# -- WebSocket limits, against a real daphne --------------------------------------------------
@pytest.fixture(scope="module")
def server(django_db_setup: Any) -> Iterator[DaphneServer]:
    started = DaphneServer().start()
    yield started
    started.stop()


def test_subscriptions_per_connection(server: DaphneServer) -> None:
    """WS_MAX_SUBSCRIPTIONS (100) per socket; finishing one makes room for another.
    Anonymous users may read tags, so no account is needed."""

    async def scenario() -> None:
        socket = await GraphQLSocket.open(server.ws)
        for n in range(100):
            await socket.subscribe(str(n), "subscription { tag_changes { op } }")
        for n in range(100):
            assert await socket.event(str(n), "tag_changes") == {"op": "READY"}
        await socket.subscribe("100", "subscription { tag_changes { op } }")
        refused = await socket.next_for("100")
        assert refused["type"] == "error", refused
        assert "Too many subscriptions on this connection (limit 100)" in (
            refused["payload"][0]["message"])
        await socket.send({"type": "complete", "id": "0"})
        await socket.subscribe("101", "subscription { tag_changes { op } }")
        assert await socket.event("101", "tag_changes") == {"op": "READY"}
        # Queries are not subscriptions: they still run.
        await socket.subscribe("q", "{ tag_count }")
        assert (await socket.next_for("q"))["payload"] == {"data": {"tag_count": 0}}
        await socket.close()

    asyncio.run(scenario())


def test_message_size(server: DaphneServer) -> None:
    """WS_MAX_MESSAGE_SIZE (256 KiB): a bigger message closes the socket with 1009; one
    just under is read (and refused by the query length limit, as over HTTP)."""
    limit = 256 * 1024

    async def scenario() -> None:
        socket = await GraphQLSocket.open(server.ws)
        envelope = '{"type":"subscribe","id":"1","payload":{"query":"{ tag_count }%s"}}'
        under = envelope % (" " * (limit - len(envelope % "")))
        assert len(under) == limit
        await socket.connection.send(under)
        answer = await socket.next_for("1")
        assert answer["type"] == "error"
        assert answer["payload"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
        await socket.connection.send(envelope.replace('"1"', '"2"') % (" " * (limit)))
        assert await socket.closed() == (1009, "Message too big")

    asyncio.run(scenario())
