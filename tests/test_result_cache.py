"""The result cache: hot reads cost one version check, and no write is ever missed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from api_graphql.registry import ModelConfig, site
from myproject.models import Article, User
from tests.servers import run_shell
from tests.testapp.models import Book, Label, Writer

pytestmark = pytest.mark.django_db(transaction=True)
QUERY = "{ article_list(ordering: [{id: ASC}]) { title author { username } } }"


def data_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries
            if "django_session" not in q["sql"] and "auth_" not in q["sql"]]


@pytest.fixture
def article() -> Article:
    author = User.objects.create(email="ada@example.com", username="ada")
    return Article.objects.create(title="One", content="c", author=author, published=True)


@pytest.fixture
def admin(gql_as: Any, make_user: Any) -> Any:
    return gql_as(make_user("root", superuser=True))


def titles(result: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["title"], r["author"] and r["author"]["username"])
            for r in result["data"]["article_list"]]


def test_a_repeated_query_costs_only_the_version_check(admin: Any, article: Article) -> None:
    admin("{ me { id } }")
    with CaptureQueriesContext(connection) as first:
        assert titles(admin(QUERY)) == [("One", "ada")]
    with CaptureQueriesContext(connection) as second:
        assert titles(admin(QUERY)) == [("One", "ada")]
    assert len(data_queries(first)) == 2  # versions, then the articles joined to authors
    assert data_queries(second) == data_queries(first)[:1]
    assert "realtime_streamposition" in data_queries(second)[0]


def test_writes_in_this_process_and_through_relations_invalidate(admin: Any,
                                                                 article: Article) -> None:
    admin(QUERY)
    article.title = "One, edited"
    article.save()
    assert titles(admin(QUERY)) == [("One, edited", "ada")]
    User.objects.filter(pk=article.author_id).update(username="bypassed")  # no signal,
    assert titles(admin(QUERY)) == [("One, edited", "bypassed")]  # captured all the same
    with connection.cursor() as cursor:
        cursor.execute("UPDATE users SET username = 'raw' WHERE id = %s", [article.author_id])
    assert titles(admin(QUERY)) == [("One, edited", "raw")]


def test_a_write_in_another_process_invalidates(admin: Any, article: Article) -> None:
    admin(QUERY)
    run_shell(f"from myproject.models import Article\n"
              f"a = Article.objects.get(pk={article.pk}); a.title = 'From a shell'; a.save()")
    assert titles(admin(QUERY)) == [("From a shell", "ada")]


def test_each_permission_scope_has_its_own_entry(gql: Any, admin: Any, article: Article) -> None:
    Article.objects.create(title="Draft", content="c", author=article.author)
    assert titles(admin(QUERY)) == [("One", "ada"), ("Draft", "ada")]
    assert titles(gql(QUERY)) == [("One", None)]  # anonymous: published, no users
    assert titles(admin(QUERY)) == [("One", "ada"), ("Draft", "ada")]


def test_inside_a_transaction_the_cache_is_not_used(admin: Any, article: Article) -> None:
    """A transaction sees its own uncommitted writes; the cache must not hide them."""
    from django.contrib.auth import get_user_model

    from api_graphql.context import RequestContext
    from api_graphql.execution import executor_for
    from api_graphql.schema import get_schema

    admin(QUERY)
    built = get_schema()
    context = RequestContext(built, get_user_model()._default_manager.get(username="root"))
    with transaction.atomic():
        Article.objects.filter(pk=article.pk).update(title="Uncommitted")
        result = executor_for(built).execute(context, QUERY)
        transaction.set_rollback(True)
    assert titles(result) == [("Uncommitted", "ada")]
    assert titles(admin(QUERY)) == [("One", "ada")]


def test_it_can_be_turned_off(admin: Any, article: Article) -> None:
    with override_settings(API_GRAPHQL={"RESULT_CACHE": False}):
        admin(QUERY)
        with CaptureQueriesContext(connection) as second:
            admin(QUERY)
    assert not any("realtime_streamposition" in sql for sql in data_queries(second))
    assert len(data_queries(second)) == 1


def test_rules_reading_uncaptured_models_are_not_cached(admin: Any, gql: Any) -> None:
    writer = Writer.objects.create(name="Le Guin")
    book = Book.objects.create(title="Lathe", writer=writer)
    Label.objects.create(text="tag", target=book)

    class LabelConfig(ModelConfig):
        def read_filter(self, user: Any) -> bool | Q:
            return Q(content_type__app_label="testapp")  # ContentType is not captured

    previous = site._configs.get(Label)
    site.register(Label, LabelConfig)
    try:
        gql("{ label_list { text } }")
        with CaptureQueriesContext(connection) as second:
            assert gql("{ label_list { text } }")["data"] == {"label_list": [{"text": "tag"}]}
    finally:
        site._configs.pop(Label, None)
        if previous is not None:
            site._configs[Label] = previous
    assert not any("realtime_streamposition" in sql for sql in data_queries(second))


def test_exact_mode_a_write_through_one_worker_is_seen_at_once_by_another(
        article: Article, make_user: Any) -> None:
    """The default: the writer's very next read, on another worker, is fresh."""
    from api_graphql import tokens
    from tests.servers import daphne, graphql_post

    root = make_user("root", superuser=True)
    auth = {"Authorization": f"Bearer {tokens.issue(root)[0]}"}
    with daphne() as writer, daphne() as reader:
        url = reader.http + "/graphql"
        for title in ("Two", "Three", "Four"):
            graphql_post(url, QUERY, headers=auth)
            graphql_post(url, QUERY, headers=auth)  # cached
            graphql_post(writer.http + "/graphql",
                         'mutation($pk: ID!, $t: String) { update_article(pk: $pk, '
                         "data: {title: $t}) { ok } }", {"pk": str(article.pk), "t": title},
                         headers=auth)
            assert titles(graphql_post(url, QUERY, headers=auth)) == [(title, "ada")]


def test_stream_mode_workers_learn_of_writes_from_the_change_stream(
        article: Article, make_user: Any) -> None:
    """"stream": no database work on a hit; another worker's write shows once its event
    arrives (with Redis) or at the next outbox poll (embedded)."""
    import time

    from api_graphql import tokens
    from tests.servers import daphne, graphql_post

    root = make_user("root", superuser=True)
    auth = {"Authorization": f"Bearer {tokens.issue(root)[0]}"}
    with daphne(DJANGO_SETTINGS_MODULE="tests.settings_stream_cache") as writer, \
            daphne(DJANGO_SETTINGS_MODULE="tests.settings_stream_cache") as reader:
        url = reader.http + "/graphql"
        graphql_post(url, QUERY, headers=auth)
        graphql_post(writer.http + "/graphql",
                     'mutation($pk: ID!) { update_article(pk: $pk, data: {title: "Two"}) '
                     "{ ok } }", {"pk": str(article.pk)}, headers=auth)
        deadline = time.monotonic() + 10
        while titles(graphql_post(url, QUERY, headers=auth)) != [("Two", "ada")]:
            assert time.monotonic() < deadline, "the reader never learned of the write"
            time.sleep(0.05)
