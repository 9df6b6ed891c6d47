"""Compiled reads (api_graphql.compiled): the same bytes as the reader, from one statement.

Every document runs twice, with ``COMPILED_READS`` off (the reader) and on, for users
whose row rules differ, and the response bodies must be byte-identical; the rows the
result cache records must be the same sets. On PostgreSQL the compiled run must also
have used the database's JSON (one statement per compiled root field); elsewhere the
setting changes nothing, which the byte comparison checks too.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from api_graphql import compiled, encoding
from api_graphql.context import RequestContext
from api_graphql.errors import GraphQLUserError
from api_graphql.execution import executor_for
from api_graphql.schema import get_schema
from myproject.models import Article, Comment, Profile, Tag, User
from tests.conftest import GraphQLClient
from tests.testapp.models import Book, Label, Node, Passport, Place, Restaurant, Scalars, Writer

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def _settings(on: bool) -> Any:
    return override_settings(API_GRAPHQL={**settings.API_GRAPHQL, "COMPILED_READS": on,
                                          "RESULT_CACHE": False})


@pytest.fixture
def data() -> dict[str, Any]:
    ada = User.objects.create(email="ada@example.com", username="ada")
    bob = User.objects.create(email="bob@example.com", username="bob", is_active=False)
    Profile.objects.create(user=ada, bio="Countess", role=Profile.Role.EDITOR)
    tags = [Tag.objects.create(name=n) for n in ("python", "django", "rust", "o'hara {x} %s")]
    base = timezone.now().replace(microsecond=0) - datetime.timedelta(days=10)
    articles = []
    for index in range(7):
        article = Article.objects.create(
            title=f"Article {index} \"quoted\" \\ é 🚀", content="x" * index,
            author=ada if index % 2 else bob, published=index % 3 != 0)
        # Microseconds zero, with trailing zeros, and full: each written as orjson does.
        created = base + datetime.timedelta(days=index,
                                            microseconds=(0, 240000, 123456, 1)[index % 4])
        Article.objects.filter(pk=article.pk).update(created_at=created)
        articles.append(article)
    articles[1].tags.set(tags[:2])
    articles[2].tags.set(tags[2:])
    articles[3].tags.set(tags)
    for index, article in enumerate(articles[:4]):
        for n in range(index + 1):
            Comment.objects.create(article=article, author=ada if n % 2 else bob, body=f"c{n}",
                                   status=(Comment.Status.VISIBLE if n != 1
                                           else Comment.Status.HIDDEN))
    root = Node.objects.create(name="root")
    child = Node.objects.create(name="child", parent=root)
    Node.objects.create(name="leaf", parent=child)
    writers = [Writer.objects.create(name=n) for n in ("w1", "w2", "w3")]
    books = [Book.objects.create(title=f"b{i}", writer=writers[i % 2]) for i in range(4)]
    books[0].co_writers.set(writers[1:])
    writers[0].best_book = books[2]
    writers[0].save()
    Passport.objects.create(writer=writers[1], number="P-1")
    Label.objects.create(text="classic", target=books[0])
    Restaurant.objects.create(name="Luigi", serves_pizza=True)
    Place.objects.create(name="Park")
    Scalars.objects.create(char="a", integer=3, big=2**40, boolean=True, kind="a-b", level=2,
                           date=datetime.date(2020, 1, 2), uuid=uuid.uuid4(),
                           datetime=timezone.now(), floating=0.1, decimal=Decimal("12.50"),
                           time=datetime.time(14, 40, 9, 22887))
    Scalars.objects.create(char="b", kind="", level=1, decimal=Decimal("0.00"),
                           time=datetime.time(1, 2, 3))
    Scalars.objects.create(char="c", decimal=Decimal("-0.01"), time=datetime.time(0, 0))
    return {"articles": articles}


DOCUMENTS = [
    # The bench's three queries.
    "{ article(pk: 1) { id title created_at } }",
    ("{ article_list(limit: 20, filters: {published: {exact: true}}) "
     "{ id title author { id username } tags { id name } comment_set_count } }"),
    "{ article_list(limit: 1000) { id title published created_at } }",
    # Aliases, __typename, nested lists with their own arguments, counts with filters.
    """{ a: article_list(ordering: [{title: DESC}], offset: 1, limit: 4) {
           __typename key: id created_at
           author { __typename username is_active profile { bio role } }
           comment_set(ordering: [{body: DESC}], limit: 2) { body status author { username } }
           visible: comment_set_count(filters: {status: {exact: visible}})
           comment_set_count tags(filters: {name: {icontains: "o"}}) { name articles_count } }
         b: article_count }""",
    "{ article_list(filters: {id: {in: []}}) { id } tag_list { name articles(limit: 0) { id } } }",
    "{ tag_list(ordering: [{name: ASC}], limit: 10) { name articles(ordering: [{created_at: ASC}], "
    "limit: 10) { title comment_set(limit: 10) { body } } } }",
    "{ comment_list { body article { title author { username } } author { username } } }",
    "{ user_list { username article_set { title } comment_set_count profile { role } } }",
    # Every relation shape of the test app: self, nullable, m2m both ways, one-to-one.
    ("{ testapp_node_list { name parent { name parent { name } } children { name } "
     "children_count } }"),
    ("{ place_list(ordering: [{name: ASC}]) { name restaurant { serves_pizza } } "
     "restaurant_list { name serves_pizza place_ptr { name } } big_place_list { name } }"),
    "{ label_list { text target { __typename } } book_list { labels { text } } }",
    ("{ writer_list(limit: 10) { name best_book { title writer { name } } passport { number } "
     "co_written(limit: 10) { title } book_set(limit: 10) { title co_writers(limit: 10) "
     "{ name } } } }"),
    "{ book_list(ordering: [{writer: {name: DESC}}]) { title writer { name } co_writers_count } }",
    # Scalars: some compiled (ints, text, booleans, dates, UUIDs, enums), some not.
    ("{ scalars_list { id char integer big boolean kind level date uuid datetime decimal "
     "time } }"),
    "{ scalars_list { id floating } }",
    "query($pk: ID!) { article(pk: $pk) { title tags { name } } }",
]


def _documents(data: dict[str, Any]) -> list[tuple[str, dict[str, Any] | None]]:
    pk = str(data["articles"][3].pk)
    return [(doc, {"pk": pk} if "$pk" in doc else None) for doc in DOCUMENTS]


def _roles(make_user: Any) -> dict[str, Any]:
    return {"anonymous": AnonymousUser(), "viewer": make_user("viewer", actions=("view",)),
            "root": make_user("root", superuser=True)}


def _body(user: Any, query: str, variables: dict[str, Any] | None) -> bytes:
    client = GraphQLClient(Client()).login(user)
    response = client.post(query, variables)
    assert response.status_code == 200
    return bytes(response.content)


def test_every_document_answers_the_same_bytes_both_ways(data: dict[str, Any],
                                                         make_user: Any) -> None:
    failures = []
    for role, user in _roles(make_user).items():
        for query, variables in _documents(data):
            with _settings(False):
                reader = _body(user, query, variables)
            with _settings(True), CaptureQueriesContext(connection) as queries:
                compiled_body = _body(user, query, variables)
            if compiled_body != reader:
                failures.append(f"{role} {query}\n  reader:   {reader[:600]!r}\n"
                                f"  compiled: {compiled_body[:600]!r}")
            if role != "root":  # the others may be refused some models, the same both ways
                continue
            if b'"errors"' in reader:
                failures.append(f"errors: {query} {reader[:300]!r}")
            statements = [q["sql"] for q in queries if "json_build_object" in q["sql"]]
            if POSTGRES and "floating" not in query and "label" not in query and not statements:
                failures.append(f"not compiled: {query}")
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(not POSTGRES, reason="the database builds JSON on PostgreSQL only")
def test_a_compiled_read_is_one_statement_and_compiled_once(data: dict[str, Any],
                                                           make_user: Any) -> None:
    user = make_user("root", superuser=True)
    query = DOCUMENTS[1]
    with _settings(True):
        _body(user, query, None)
        with CaptureQueriesContext(connection) as queries:
            first = _body(user, query, None)
        assert len([q for q in queries if "json_build_object" in q["sql"]]) == 1
        compiled_before = len(compiled._statements)
        assert _body(user, query, None) == first
        assert len(compiled._statements) == compiled_before


@pytest.mark.skipif(not POSTGRES, reason="the database builds JSON on PostgreSQL only")
def test_one_statement_serves_every_key_of_a_get(data: dict[str, Any], make_user: Any) -> None:
    """``article(pk: $pk)``: the key is a parameter of the statement, not part of it."""
    user = make_user("root", superuser=True)
    query = "query($pk: ID!) { article(pk: $pk) { id title tags { name } } }"
    keys = [str(a.pk) for a in data["articles"]] + ["999999"]
    with _settings(False):
        wanted = [_body(user, query, {"pk": key}) for key in keys]
    with _settings(True):
        _body(user, query, {"pk": keys[0]})
        compiled_before = len(compiled._statements)
        with CaptureQueriesContext(connection) as queries:
            got = [_body(user, query, {"pk": key}) for key in keys]
        assert len(compiled._statements) == compiled_before
    assert got == wanted
    assert len([q for q in queries if "json_build_object" in q["sql"]]) == len(keys)


@pytest.mark.skipif(not POSTGRES, reason="the database builds JSON on PostgreSQL only")
def test_a_statement_is_shared_by_scope_never_across_row_rules(data: dict[str, Any],
                                                              make_user: Any) -> None:
    """Anonymous users read published articles only, viewers all of them: two scopes,
    two statements; two viewers share one."""
    query = "{ article_list { id } comment_list { id } }"
    answers = {}
    with _settings(True):
        for name, user in (("anonymous", AnonymousUser()),
                           ("viewer", make_user("viewer", actions=("view",))),
                           ("viewer2", make_user("viewer2", actions=("view",)))):
            answers[name] = _body(user, query, None)
    published = Article.objects.filter(published=True).count()
    assert answers["anonymous"].count(b'"id"') < answers["viewer"].count(b'"id"')
    assert answers["viewer"] == answers["viewer2"]
    assert answers["anonymous"].count(b'"id"') >= published


def _recorded(user: Any, query: str, variables: dict[str, Any] | None,
              on: bool) -> tuple[bytes, dict[str, set[str]]]:
    """The data (as JSON) and the rows the result cache would record for them."""
    built = get_schema()
    executor = executor_for(built)
    with _settings(on):
        prepared = executor.prepare(query, None)
        plan = executor.plan(prepared, variables)
        context = RequestContext(built, user)
        context.reader.seen = seen = {}
        handlers = built.root_fields["query"]
        values: dict[str, Any] = {}
        for key, selection in plan.selections.items():
            try:
                values[key] = handlers[selection.name].handler(context, selection)
            except GraphQLUserError as error:  # refused: the same way both ways
                values[key] = error.as_dict()
    return encoding.dumps(values), seen


def test_the_recorded_rows_are_the_same_both_ways(data: dict[str, Any], make_user: Any) -> None:
    for role, user in _roles(make_user).items():
        for query, variables in _documents(data):
            assert _recorded(user, query, variables, True) == _recorded(
                user, query, variables, False), (role, query)


def test_without_the_setting_the_reader_answers(data: dict[str, Any], make_user: Any) -> None:
    with _settings(False), CaptureQueriesContext(connection) as queries:
        _body(make_user("root", superuser=True), DOCUMENTS[1], None)
    assert not [q for q in queries if "json_build_object" in q["sql"]]
