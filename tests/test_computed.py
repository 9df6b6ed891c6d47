"""Computed fields: properties, methods (typed arguments) and ORM annotations.

The demo's ArticleConfig exposes ``reading_time`` (a property), ``summary(words)``
(a method), ``tag_names`` (a property walking a relation, with a prefetch hint) and
``title_length`` (an annotation: SQL, filterable and orderable). Expected values are
asked of the model itself (``article.reading_time``), never of api_graphql.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext, override_settings

import api_graphql
from api_graphql.registry import ExposureRegistry, ModelConfig, site
from api_graphql.schema import build_schema
from myproject.models import Article, Tag, User

pytestmark = pytest.mark.django_db

ROWS = 100


@pytest.fixture
def articles() -> list[Article]:
    ada = User.objects.create(email="ada@example.com", username="ada")
    tags = [Tag.objects.create(name=f"tag{i}") for i in range(3)]
    rows = []
    for i in range(ROWS):
        article = Article.objects.create(
            title="t" * (1 + i % 17), content=" ".join(["word"] * (i * 37)), author=ada,
            published=i % 2 == 0)
        article.tags.set(tags[: i % 4])
        rows.append(article)
    return rows


@pytest.fixture
def admin(gql_as: Any, make_user: Any) -> Any:
    return gql_as(make_user("root", superuser=True))


def queries(client: Any, query: str, variables: dict[str, Any] | None = None) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        result = client(query, variables)
    return result, len(captured.captured_queries)


def test_properties_methods_and_annotations_over_100_rows(admin: Any,
                                                          articles: list[Article]) -> None:
    result, computed = queries(admin, """{ article_list(limit: 100) {
        id reading_time tag_names summary(words: 3) title_length } }""")
    assert "errors" not in result, result
    rows = {row["id"]: row for row in result["data"]["article_list"]}
    assert len(rows) == ROWS
    for article in articles:
        row = rows[str(article.pk)]
        assert row["reading_time"] == article.reading_time
        assert row["tag_names"] == article.tag_names
        assert row["summary"] == article.summary(words=3)
        assert row["title_length"] == len(article.title)
    _, plain = queries(admin, "{ article_list(limit: 100) { id } }")
    # One query loads the 100 instances, one more prefetches their tags: never per row.
    assert computed - plain == 2, (computed, plain)
    _, annotated = queries(admin, "{ article_list(limit: 100) { id title_length } }")
    assert annotated == plain  # an annotation comes back in the row itself
    _, one_property = queries(admin, "{ article_list(limit: 100) { id reading_time } }")
    assert one_property - plain == 1


def test_annotations_filter_and_order(admin: Any, articles: list[Article]) -> None:
    result = admin("""{ article_list(limit: 100, filters: {title_length: {gte: 15}},
                                     ordering: [{title_length: DESC}, {id: ASC}]) {
        id title_length } }""")
    assert "errors" not in result, result
    expected = sorted((a for a in articles if len(a.title) >= 15),
                      key=lambda a: (-len(a.title), a.pk))
    assert [row["id"] for row in result["data"]["article_list"]] == [str(a.pk) for a in expected]
    counted = admin("{ article_count(filters: {NOT: {title_length: {lt: 15}}}) }")
    assert counted["data"]["article_count"] == len(expected)


def test_computed_fields_under_relations_stay_n_plus_one_free(admin: Any,
                                                              articles: list[Article]) -> None:
    result, count = queries(admin, """{ user_list { username
        article_set(limit: 100) { id reading_time title_length } } }""")
    assert "errors" not in result, result
    nested = result["data"]["user_list"][0]["article_set"]
    by_pk = {a.pk: a for a in articles}
    assert len(nested) == ROWS
    for row in nested:
        assert row["reading_time"] == by_pk[int(row["id"])].reading_time
        assert row["title_length"] == len(by_pk[int(row["id"])].title)
    # Compared with the reader's own plain answer (compiled reads would make it one).
    with override_settings(API_GRAPHQL={"COMPILED_READS": False}):
        _, plain = queries(admin, "{ user_list { username article_set(limit: 100) { id } } }")
    assert count - plain == 1


def test_anonymous_computes_only_rows_it_may_read(gql: Any, articles: list[Article]) -> None:
    result = gql("{ article_list(limit: 100) { id reading_time title_length } }")
    assert "errors" not in result, result
    listed = {row["id"] for row in result["data"]["article_list"]}
    assert listed == {str(a.pk) for a in articles if a.published}
    hidden = next(a for a in articles if not a.published)
    got = gql(f'{{ article(pk: "{hidden.pk}") {{ id reading_time }} }}')
    assert got["data"]["article"] is None


def test_bad_input_and_failing_methods_are_clear_errors(admin: Any,
                                                        articles: list[Article]) -> None:
    wrong_type = admin('{ article_list(limit: 1) { summary(words: "many") } }')
    assert "data" not in wrong_type or wrong_type["data"] is None
    assert "Int cannot represent" in wrong_type["errors"][0]["message"]
    refused = admin("{ article_list(limit: 1) { id summary(words: 0) } }")
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "COMPUTED_FIELD_FAILED"
    assert "Ask for at least one word." in error["message"]
    unknown = admin("{ article_list(limit: 1) { id secret_property } }")
    assert "secret_property" in unknown["errors"][0]["message"]


@pytest.fixture
def raising_config() -> Iterator[None]:
    original = site._configs.get(Article)

    class Broken(ModelConfig):
        computed = ["explode"]

    def explode(self: Article) -> str:
        raise RuntimeError("database password is hunter2")

    Article.explode = explode  # type: ignore[attr-defined]
    site.register(Article, Broken)
    yield
    del Article.explode  # type: ignore[attr-defined]
    site._configs.pop(Article, None)
    if original is not None:
        site._configs[Article] = original


def test_a_method_that_raises_is_an_error_without_its_internals(
        admin: Any, articles: list[Article], raising_config: None) -> None:
    result = admin("{ article_list(limit: 2) { id explode } }")
    error = result["errors"][0]
    assert error["extensions"]["code"] == "COMPUTED_FIELD_FAILED"
    assert "RuntimeError" in error["message"]
    assert "hunter2" not in str(result)


def _build_with(config: type[ModelConfig]) -> None:
    registry = ExposureRegistry()
    registry.register(Article, config)
    build_schema(registry)


def test_start_up_errors_name_the_problem() -> None:
    class NoAnnotation(ModelConfig):
        computed = ["save"]

    with pytest.raises(ImproperlyConfigured, match="no return annotation"):
        _build_with(NoAnnotation)

    class Missing(ModelConfig):
        computed = ["no_such_property"]

    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        _build_with(Missing)

    class Clash(ModelConfig):
        annotations = {"title": Count("tags")}

    with pytest.raises(ImproperlyConfigured, match="clashes"):
        _build_with(Clash)

    class NotAnExpression(ModelConfig):
        annotations = {"n": 3}

    with pytest.raises(ImproperlyConfigured, match="expected an ORM expression"):
        _build_with(NotAnExpression)

    class Hinted(ModelConfig):
        computed = [api_graphql.Computed("tag_names", prefetch=["tags"])]

    _build_with(Hinted)
