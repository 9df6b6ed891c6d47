"""Bad input gets a clear GraphQL error and the right status: never a 500 or a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from myproject.models import Article, User

pytestmark = pytest.mark.django_db
STRICT = "application/graphql-response+json"


@pytest.fixture
def client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("root", superuser=True))
    author = User.objects.create(email="a@example.com", username="a")
    Article.objects.create(title="t", content="c", author=author, published=True)
    return client


def post(client: Client, body: Any, accept: str = STRICT, raw: bool = False,
         content_type: str = "application/json") -> Any:
    data = body if raw else json.dumps(body)
    return client.post("/graphql", data, content_type=content_type, HTTP_ACCEPT=accept)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert "Traceback" not in response.content.decode()
    assert body["errors"], body
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.mark.parametrize(("query", "status", "fragment"), [
    ("{ article_list { id ", 400, "Syntax Error"),
    ("{ article_list { nope } }", 400, "Cannot query field 'nope'"),
    ("{ article_list(limit: \"ten\") { id } }", 400, "Int cannot represent"),
    ("{ article_list(filters: {title: {contains: 3}}) { id } }", 400, "String cannot represent"),
    ("{ article_list(filters: {published: {icontains: \"x\"}}) { id } }", 400,
     "unknown field 'icontains'"),
    ("{ article_list(filters: {created_at: {gt: \"yesterday\"}}) { id } }", 400,
     "DateTime cannot represent"),
    ("{ article_list(filters: {unknown: {exact: 1}}) { id } }", 400, "unknown field 'unknown'"),
    ("{ article_list(ordering: [{title: ASC, id: DESC}]) { id } }", 400, "exactly one key"),
    ("query A { me { id } } query B { me { id } }", 400, "operation name"),
    ("", 400, "no GraphQL query"),
])
def test_request_errors_are_400_with_graphql_response_json(client: Client, query: str,
                                                           status: int, fragment: str) -> None:
    response = post(client, {"query": query})
    assert response.status_code == status
    assert response["Content-Type"] == STRICT
    assert fragment in error_of(response)["message"]


def test_with_application_json_request_errors_are_200_as_the_spec_says(client: Client) -> None:
    response = post(client, {"query": "{ nope }"}, accept="application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "Cannot query field 'nope'" in error_of(response)["message"]


@pytest.mark.parametrize(("filters", "fragment"), [
    ({"id": {"exact": "abc"}}, "must be an integer"),
    ({"author": {"id": {"in": ["1", "x"]}}}, "must be an integer"),
    ({"id": {"range": ["1"]}}, "exactly two values"),
])
def test_invalid_filter_values_are_field_errors(client: Client, filters: dict[str, Any],
                                                fragment: str) -> None:
    response = post(client, {"query": "query($f: ArticleFilter) { article_list(filters: $f) "
                                      "{ id } }", "variables": {"f": filters}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert fragment in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["article_list"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(("arguments", "fragment"), [
    ("limit: -1", "limit must be between 0 and 1000"),
    ("limit: 1001", "limit must be between 0 and 1000"),
    ("offset: -5", "offset must not be negative"),
])
def test_negative_or_huge_pages_are_refused(client: Client, arguments: str,
                                            fragment: str) -> None:
    response = post(client, {"query": f"{{ article_list({arguments}) {{ id }} }}"})
    assert response.status_code == 200
    assert fragment in error_of(response)["message"]


def test_bad_primary_key_and_bad_cursor(client: Client) -> None:
    bad_pk = post(client, {"query": '{ article(pk: "x") { id } }'}).json()
    assert "Invalid primary key" in bad_pk["errors"][0]["message"]
    assert bad_pk["data"] == {"article": None}
    bad_cursor = post(client, {"query": '{ article_connection(after: "!!") { total_count } }'})
    assert "Invalid cursor" in error_of(bad_cursor)["message"]


def test_variables_of_the_wrong_type(client: Client) -> None:
    response = post(client, {"query": "query($n: Int!) { article_list(limit: $n) { id } }",
                             "variables": {"n": "many"}})
    assert response.status_code == 400
    assert "Variable '$n'" in error_of(response)["message"]
    missing = post(client, {"query": "query($n: Int!) { article_list(limit: $n) { id } }"})
    assert "to be provided" in error_of(missing)["message"]
    not_object = post(client, {"query": "{ me { id } }", "variables": [1]})
    assert "Variables must be a JSON object" in error_of(not_object)["message"]


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), [
    ("{not json", "application/json", 400, "not valid JSON"),
    ("[1, 2]", "application/json", 400, "must be a JSON object"),
    ("query=x", "text/plain", 415, "Unsupported content type"),
    ('{"query": 7}', "application/json", 400, "no GraphQL query"),
    ('{"query": "{ me { id } }", "operationName": 3}', "application/json", 400,
     "operationName must be a string"),
])
def test_malformed_requests(client: Client, body: str, content_type: str, status: int,
                            fragment: str) -> None:
    response = post(client, body, raw=True, content_type=content_type)
    assert response.status_code == status
    assert fragment in error_of(response)["message"]


def test_graphql_content_type_is_accepted(client: Client) -> None:
    response = post(client, "{ article_count }", raw=True, content_type="application/graphql")
    assert response.json() == {"data": {"article_count": 1}}


def test_mutations_need_post(client: Client) -> None:
    response = client.get("/graphql", {"query": "mutation { logout }"}, HTTP_ACCEPT=STRICT)
    assert response.status_code == 405
    assert "Mutations need POST" in error_of(response)["message"]


@override_settings(API_GRAPHQL={"MAX_DEPTH": 4, "MAX_ALIASES": 3, "MAX_COMPLEXITY": 500,
                                "MAX_QUERY_LENGTH": 400})
@pytest.mark.parametrize(("query", "fragment"), [
    ("{ article_list { author { article_set { author { username } } } } }", "5 levels deep"),
    ("{ a: me { id } b: me { id } c: me { id } d: me { id } }", "4 aliases"),
    ("{ article_list(limit: 100) { id title content published created_at author_id } }",
     "about 601 values"),
    ("{ article_list { " + "id " * 200 + "} }", "longer than 400 characters"),
])
def test_over_deep_over_wide_and_oversized_documents(client: Client, query: str,
                                                     fragment: str) -> None:
    response = post(client, {"query": query})
    assert response.status_code == 400
    error = error_of(response)
    assert fragment in error["message"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_depth_through_fragments_counts_too(client: Client) -> None:
    with override_settings(API_GRAPHQL={"MAX_DEPTH": 3}):
        response = post(client, {"query": "{ article_list { ...A } } fragment A on Article "
                                          "{ author { article_set { id } } }"})
    assert "4 levels deep" in error_of(response)["message"]


def test_deeply_nested_garbage_does_not_crash_the_parser(client: Client) -> None:
    response = post(client, {"query": "{" * 20000})
    assert response.status_code == 400
    assert error_of(response)["message"]
    response = post(client, {"query": "query { me { id } }" * 10000})
    assert response.status_code == 400


def test_a_database_error_is_a_graphql_error_not_a_500(client: Client) -> None:
    too_big = 2**70  # beyond every integer column
    response = post(client, {"query": "query($v: BigInt) { scalars_list(filters: {big: "
                                      "{gt: $v}}) { id } }", "variables": {"v": str(too_big)}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None or body["data"] == {"scalars_list": []}
