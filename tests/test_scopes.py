"""Scopes: the demo's ArticleQuerySet methods (published, by_author, longer_than) as
chainable filters of article_list / article_count / article_connection.

Expected rows are asked of the ORM itself (``Article.objects.published()...``),
with the demo's public rule written again for anonymous readers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api_graphql.registry import ExposureRegistry, ModelConfig, site
from api_graphql.schema import build_schema
from myproject.models import Article, User

pytestmark = pytest.mark.django_db

ROWS = 100


@pytest.fixture
def articles() -> list[Article]:
    ada = User.objects.create(email="ada@example.com", username="ada")
    bob = User.objects.create(email="bob@example.com", username="bob")
    return [Article.objects.create(title=f"a{i}", content="x" * (i * 3), author=(ada, bob)[i % 2],
                                   published=i % 3 != 0) for i in range(ROWS)]


@pytest.fixture
def admin(gql_as: Any, make_user: Any) -> Any:
    return gql_as(make_user("root", superuser=True))


def pks(rows: Any) -> list[str]:
    return [str(row.pk) for row in rows]


LIST = """query($s: [ArticleScope!], $f: ArticleFilter) {
    rows: article_list(scopes: $s, filters: $f, limit: 100, ordering: [{id: ASC}]) { id }
    n: article_count(scopes: $s, filters: $f)
    page: article_connection(scopes: $s, filters: $f, first: 100) { total_count }
}"""


def test_scopes_chain_like_the_orm(admin: Any, articles: list[Article]) -> None:
    ada = User.objects.get(username="ada")
    scopes = [{"published": True}, {"by_author": {"user": str(ada.pk)}},
              {"longer_than": {"words": 20}}]
    result = admin(LIST, {"s": scopes, "f": {"title": {"endswith": "2"}}})
    assert "errors" not in result, result
    expected = (Article.objects.published().by_author(ada).longer_than(20)
                .filter(title__endswith="2").order_by("id"))
    assert expected.exists()
    assert [r["id"] for r in result["data"]["rows"]] == pks(expected)
    assert result["data"]["n"] == expected.count()
    assert result["data"]["page"]["total_count"] == expected.count()
    skipped = admin(LIST, {"s": [{"published": False}]})
    assert skipped["data"]["n"] == ROWS


def test_row_rules_apply_on_top_of_scopes(gql: Any, articles: list[Article]) -> None:
    result = gql(LIST, {"s": [{"longer_than": {"words": 30}}]})
    assert "errors" not in result, result
    expected = Article.objects.longer_than(30).filter(published=True).order_by("id")
    assert [r["id"] for r in result["data"]["rows"]] == pks(expected)
    assert len(expected) < Article.objects.longer_than(30).count()
    # A model argument is looked up among the rows the caller may read: anonymous
    # users may not read users, so by_author cannot name one.
    ada = User.objects.get(username="ada")
    refused = gql(LIST, {"s": [{"by_author": {"user": str(ada.pk)}}]})
    assert refused["data"] is None or refused["data"]["rows"] is None
    assert all("User" in e["message"] and "does not exist" in e["message"]
               for e in refused["errors"])


def test_a_scope_costs_no_extra_query(admin: Any, articles: list[Article]) -> None:
    query = "query($s: [ArticleScope!]) { article_list(scopes: $s, limit: 100) { id } }"
    with CaptureQueriesContext(connection) as scoped:
        result = admin(query, {"s": [{"published": True}]})
    with CaptureQueriesContext(connection) as plain:
        admin(query, {"s": None})
    assert len(result["data"]["article_list"]) == Article.objects.published().count()
    assert len(scoped.captured_queries) == len(plain.captured_queries)


def test_bad_scope_input_is_a_clear_error(admin: Any, articles: list[Article]) -> None:
    refused = admin(LIST, {"s": [{"longer_than": {"words": -1}}]})
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"BAD_USER_INPUT"}
    assert "Must be zero or more." in refused["errors"][0]["message"]
    wrong_type = admin(LIST, {"s": [{"longer_than": {"words": "many"}}]})
    assert "Int cannot represent" in wrong_type["errors"][0]["message"]
    unknown = admin(LIST, {"s": [{"drafts": True}]})
    assert "drafts" in unknown["errors"][0]["message"]
    two = admin(LIST, {"s": [{"published": True, "longer_than": {"words": 1}}]})
    assert two.get("data") is None and two["errors"]
    missing = admin(LIST, {"s": [{"by_author": {"user": "999999"}}]})
    assert "User 999999 does not exist" in missing["errors"][0]["message"]


@pytest.fixture
def manager_only_scope() -> Iterator[None]:
    """A method of the manager only (not of its QuerySet): intersected, not chained."""
    original = site._configs.get(Article)
    manager_class = type(Article._default_manager)

    def even(self: Any) -> Any:
        return self.get_queryset().filter(id__in=[a.pk for a in self.all() if a.pk % 2 == 0])

    manager_class.even = even  # type: ignore[attr-defined]

    class Config(ModelConfig):
        scopes = ["published", "even"]

    site.register(Article, Config)
    yield
    del manager_class.even  # type: ignore[attr-defined]
    site._configs.pop(Article, None)
    if original is not None:
        site._configs[Article] = original


def test_a_manager_method_is_intersected(admin: Any, articles: list[Article],
                                         manager_only_scope: None) -> None:
    result = admin(LIST, {"s": [{"published": True}, {"even": True}]})
    assert "errors" not in result, result
    expected = [a for a in Article.objects.published().order_by("id") if a.pk % 2 == 0]
    assert [r["id"] for r in result["data"]["rows"]] == pks(expected)


def test_start_up_errors_name_the_scope() -> None:
    def build(names: list[str], hide_users: bool = False) -> None:
        class Config(ModelConfig):
            scopes = names

        registry = ExposureRegistry()
        registry.register(Article, Config)
        if hide_users:
            registry.unregister(User)
        build_schema(registry)

    with pytest.raises(ImproperlyConfigured, match="not a method"):
        build(["drafts"])
    with pytest.raises(ImproperlyConfigured, match="project's own"):
        build(["filter"])
    with pytest.raises(ImproperlyConfigured, match="not exposed"):
        build(["by_author"], hide_users=True)
