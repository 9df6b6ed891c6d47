"""Aggregates and grouping, against Django's own aggregate() and values().annotate()."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Max, Min
from django.test.utils import CaptureQueriesContext

from api_graphql.registry import ModelConfig, site
from myproject.models import Article, User

pytestmark = pytest.mark.django_db

ROWS = 100


@pytest.fixture
def articles() -> list[Article]:
    ada = User.objects.create(email="ada@example.com", username="ada")
    bob = User.objects.create(email="bob@example.com", username="bob")
    return [Article.objects.create(title="t" * (1 + i % 13), content=f"c{i}",
                                   author=(ada, bob)[i % 2], published=i % 3 != 0)
            for i in range(ROWS)]


@pytest.fixture
def admin(gql_as: Any, make_user: Any) -> Any:
    return gql_as(make_user("root", superuser=True))


QUERY = """query($f: ArticleFilter, $s: [ArticleScope!]) {
  article_aggregate(filters: $f, scopes: $s) {
    count  sum { title_length }  avg { title_length }  min { created_at title }
    max { title_length }  count_distinct { author_id }  std_dev { title_length }
    variance { title_length } } }"""


def expected(rows: list[Article]) -> dict[str, Any]:
    lengths = [len(a.title) for a in rows]
    return {
        "count": len(rows),
        "sum": {"title_length": sum(lengths)},
        "avg": {"title_length": pytest.approx(statistics.mean(lengths))},
        "min": {"created_at": min(a.created_at for a in rows).isoformat(),
                "title": min(a.title for a in rows)},
        "max": {"title_length": max(lengths)},
        "count_distinct": {"author_id": len({a.author_id for a in rows})},
        "std_dev": {"title_length": pytest.approx(statistics.pstdev(lengths))},
        "variance": {"title_length": pytest.approx(statistics.pvariance(lengths))},
    }


def test_aggregate_over_100_rows_is_one_query(admin: Any, articles: list[Article]) -> None:
    with CaptureQueriesContext(connection) as captured:
        result = admin(QUERY, {"f": {"title": {"startswith": "tt"}}})
    with CaptureQueriesContext(connection) as baseline:
        admin("{ __typename }")
    assert "errors" not in result, result
    rows = [a for a in articles if a.title.startswith("tt")]
    got = result["data"]["article_aggregate"]
    got["min"]["created_at"] = got["min"]["created_at"].replace("Z", "+00:00")
    assert got == expected(rows)
    assert len(captured.captured_queries) - len(baseline.captured_queries) == 1


def test_row_rules_apply_before_aggregating(gql: Any, articles: list[Article]) -> None:
    result = gql(QUERY, {"s": [{"longer_than": {"words": 0}}]})
    assert "errors" not in result, result
    public = [a for a in articles if a.published]
    assert result["data"]["article_aggregate"]["count"] == len(public) < ROWS
    assert result["data"]["article_aggregate"]["max"] == {
        "title_length": max(len(a.title) for a in public)}
    refused = gql("{ user_aggregate { count } }")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused.get("data") is None or refused["data"].get("user_aggregate") is None


def test_group_by_is_values_annotate(admin: Any, articles: list[Article]) -> None:
    result = admin("""{ article_group_by(by: [author_id, published]) {
        key { author_id published }  count  max { title_length } } }""")
    assert "errors" not in result, result
    rows = Article.objects.order_by().values("author_id", "published").annotate(
        n=Count("pk"), lo=Min("title"), hi=Max("title")).order_by("author_id", "published")
    got = result["data"]["article_group_by"]
    assert [g["key"] for g in got] == [
        {"author_id": str(r["author_id"]), "published": r["published"]} for r in rows]
    assert [g["count"] for g in got] == [r["n"] for r in rows]
    assert [g["max"]["title_length"] for g in got] == [len(r["hi"]) for r in rows]


@pytest.fixture
def hidden_content() -> Iterator[None]:
    original = site._configs.get(Article)

    class Hidden(ModelConfig):
        exclude = ["content"]

    site.register(Article, Hidden)
    yield
    site._configs.pop(Article, None)
    if original is not None:
        site._configs[Article] = original


def test_an_aggregate_over_a_hidden_field_is_an_error(admin: Any, articles: list[Article],
                                                      hidden_content: None) -> None:
    result = admin("{ article_aggregate { max { content } } }")
    assert result.get("data") is None
    assert "Cannot query field 'content'" in result["errors"][0]["message"]
    bad = admin("{ article_group_by(by: [content]) { count } }")
    assert "content" in bad["errors"][0]["message"]


@pytest.mark.parametrize(("arguments", "says"), [
    ("by: []", "group_by needs one or more distinct fields in 'by'."),
    ("by: [published, published]", "group_by needs one or more distinct fields in 'by'."),
    ("by: [reading_time]", "reading_time"),
    ('by: [published], limit: "ten"', "Int cannot represent"),
    ("by: [published], limit: -1", "limit"),
])
def test_bad_group_by_input_is_a_clear_error(admin: Any, articles: list[Article], arguments: str,
                                             says: str) -> None:
    result = admin(f"{{ article_group_by({arguments}) {{ count }} }}")
    assert not (result.get("data") or {}).get("article_group_by"), result
    assert says in result["errors"][0]["message"], result
    # A validation error (no code) or the resolver's BAD_USER_INPUT: never an internal error.
    assert result["errors"][0].get("extensions", {}).get("code") in {None, "BAD_USER_INPUT"}
