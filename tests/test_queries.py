"""Reading: lists, objects, counts, connections, filters, ordering, relations, N+1."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from myproject.models import Article, Comment, Profile, Tag, User
from tests.testapp.models import Book, Label, Node, Place, Restaurant, Scalars, Writer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_gql(gql_as: Any, make_user: Any) -> Any:
    return gql_as(make_user("root", superuser=True))


@pytest.fixture
def blog() -> dict[str, Any]:
    ada = User.objects.create(email="ada@example.com", username="ada")
    bob = User.objects.create(email="bob@example.com", username="bob", is_active=False)
    Profile.objects.create(user=ada, bio="Countess", role=Profile.Role.EDITOR)
    python, django_tag, rust = (Tag.objects.create(name=n) for n in ("python", "django", "rust"))
    articles = []
    base = timezone.now() - datetime.timedelta(days=10)
    for index in range(6):
        article = Article.objects.create(
            title=f"Article {index}", content="x" * index, author=ada if index % 2 else bob,
            published=index % 3 != 0)
        Article.objects.filter(pk=article.pk).update(
            created_at=base + datetime.timedelta(days=index))
        articles.append(article)
    articles[1].tags.set([python, django_tag])
    articles[2].tags.set([rust])
    for index, article in enumerate(articles[:3]):
        for n in range(index + 1):
            Comment.objects.create(article=article, author=ada, body=f"c{n}",
                                   status=Comment.Status.VISIBLE)
    return {"ada": ada, "bob": bob, "articles": articles, "tags": (python, django_tag, rust)}


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def test_list_get_count(admin_gql: Any, blog: dict[str, Any]) -> None:
    articles = blog["articles"]
    result = admin_gql("""query($pk: ID!) {
        article_list { id title }
        article(pk: $pk) { title content author { username } }
        missing: article(pk: "999999") { id }
        article_count
        published: article_count(filters: {published: {exact: true}})
    }""", {"pk": str(articles[2].pk)})
    assert "errors" not in result
    data = result["data"]
    # Meta.ordering is -created_at, then pk.
    assert ids(data["article_list"]) == [str(a.pk) for a in reversed(articles)]
    assert data["article"] == {"title": "Article 2", "content": "xx",
                               "author": {"username": "bob"}}
    assert data["missing"] is None
    assert data["article_count"] == 6
    assert data["published"] == 4


def test_lookups_through_relations_and_boolean_combinations(admin_gql: Any,
                                                            blog: dict[str, Any]) -> None:
    articles = blog["articles"]

    def titles(filters: dict[str, Any]) -> list[str]:
        result = admin_gql("query($f: ArticleFilter) { article_list(filters: $f, ordering: "
                           "[{id: ASC}]) { title } }", {"f": filters})
        assert "errors" not in result, result
        return [row["title"] for row in result["data"]["article_list"]]

    assert titles({"title": {"icontains": "ARTICLE 1"}}) == ["Article 1"]
    assert titles({"title": {"endswith": "3"}}) == ["Article 3"]
    assert titles({"id": {"in": [str(articles[0].pk), str(articles[5].pk)]}}) == [
        "Article 0", "Article 5"]
    assert titles({"author": {"username": {"exact": "ada"}}}) == [
        "Article 1", "Article 3", "Article 5"]
    assert titles({"author": {"is_active": {"exact": False}}, "published": {"exact": True}}) == [
        "Article 2", "Article 4"]
    assert titles({"tags": {"name": {"in": ["python", "django"]}}}) == ["Article 1"]  # no dupes
    assert titles({"OR": [{"title": {"exact": "Article 0"}},
                          {"title": {"exact": "Article 4"}}]}) == ["Article 0", "Article 4"]
    assert titles({"NOT": {"author": {"username": {"exact": "ada"}}},
                   "AND": [{"published": {"exact": True}}]}) == ["Article 2", "Article 4"]
    assert titles({"comment_set": {"body": {"exact": "c2"}}}) == ["Article 2"]
    first_day = articles[0].created_at if False else Article.objects.get(pk=articles[0].pk)
    day = first_day.created_at.date().isoformat()
    assert titles({"created_at": {"date": {"exact": day}}}) == ["Article 0"]
    year = first_day.created_at.year
    assert len(titles({"created_at": {"year": {"gte": year}}})) == 6
    assert titles({"created_at": {"gt": first_day.created_at.isoformat()},
                   "content": {"isnull": False}, "title": {"lt": "Article 2"}}) == ["Article 1"]
    assert titles({"id": {"range": [str(articles[1].pk), str(articles[2].pk)]}}) == [
        "Article 1", "Article 2"]


def test_chained_filters_join_a_to_many_relation_again_as_django_does(
        admin_gql: Any, blog: dict[str, Any]) -> None:
    """CHAIN is Django's filter(...).filter(...): each filter may match another row of a
    to-many relation; AND is one filter() call, about the same row. Both as the ORM says."""
    python, _, _ = blog["tags"]
    articles = blog["articles"]
    articles[2].tags.add(python)  # article 2: rust and python; article 1: python and django

    def pks(filters: dict[str, Any], model: str = "article") -> list[int]:
        name = model.capitalize()
        result = admin_gql(f"query($f: {name}Filter) {{ {model}_list(filters: $f, "
                           "ordering: [{id: ASC}]) { id } }", {"f": filters})
        assert "errors" not in result, result
        return [int(row["id"]) for row in result["data"][f"{model}_list"]]

    def orm(qs: Any) -> list[int]:
        return list(qs.order_by("id").values_list("id", flat=True))

    def tag(name: str) -> dict[str, Any]:
        return {"tags": {"name": {"exact": name}}}

    def comment(body: str) -> dict[str, Any]:
        return {"comment_set": {"body": {"exact": body}}}

    chained = Article.objects.filter(tags__name="python").filter(tags__name="rust")
    assert pks({"CHAIN": [tag("python"), tag("rust")]}) == orm(chained) == [articles[2].pk]
    together = Article.objects.filter(Q(tags__name="python") & Q(tags__name="rust"))
    assert pks({"AND": [tag("python"), tag("rust")]}) == orm(together) == []
    # A reverse foreign key: article 1 has comments c0 and c1, article 2 c0 to c2.
    chained = Article.objects.filter(comment__body="c0").filter(comment__body="c1")
    assert pks({"CHAIN": [comment("c0"), comment("c1")]}) == orm(chained) == [
        articles[1].pk, articles[2].pk]
    assert pks({"AND": [comment("c0"), comment("c1")]}) == []
    # With exclude(), a NOT in the chain; and filters that cross nothing to-many.
    chained = Article.objects.filter(tags__name="python").exclude(tags__name="rust")
    assert pks({"CHAIN": [tag("python"), {"NOT": tag("rust")}]}) == orm(chained) == [
        articles[1].pk]
    plain = Article.objects.filter(published=True).filter(title__startswith="Article")
    assert pks({"CHAIN": [{"published": {"exact": True}},
                          {"title": {"startswith": "Article"}}]}) == orm(plain)
    # Inside a relation: users with an article tagged both (in two filters).
    both = Article.objects.filter(tags__name="python").filter(tags__name="rust")
    assert pks({"article_set": {"CHAIN": [tag("python"), tag("rust")]}}, "user") == orm(
        User.objects.filter(article__in=both).distinct()) == [articles[2].author_id]


def test_ordering_by_several_fields_and_related_fields(admin_gql: Any,
                                                       blog: dict[str, Any]) -> None:
    result = admin_gql("""{ article_list(ordering: [{author: {username: DESC}}, {title: ASC}])
                            { title author { username } } }""")
    rows = result["data"]["article_list"]
    assert [r["author"]["username"] for r in rows] == ["bob"] * 3 + ["ada"] * 3
    assert [r["title"] for r in rows] == ["Article 0", "Article 2", "Article 4",
                                         "Article 1", "Article 3", "Article 5"]
    nulls = admin_gql("{ writer_list(ordering: [{best_book: {title: ASC_NULLS_FIRST}}]) "
                      "{ id } }")
    assert "errors" not in nulls


def test_offset_limit_and_nested_pagination(admin_gql: Any, blog: dict[str, Any]) -> None:
    result = admin_gql("""{ article_list(ordering: [{id: ASC}], offset: 1, limit: 2) { title }
        user_list(ordering: [{username: ASC}]) { username
            article_set(ordering: [{id: DESC}], limit: 2) { title }
            article_set_count
            published: article_set_count(filters: {published: {exact: true}}) } }""")
    assert [r["title"] for r in result["data"]["article_list"]] == ["Article 1", "Article 2"]
    ada, bob = result["data"]["user_list"]
    assert [r["title"] for r in ada["article_set"]] == ["Article 5", "Article 3"]
    assert [r["title"] for r in bob["article_set"]] == ["Article 4", "Article 2"]
    assert (ada["article_set_count"], ada["published"]) == (3, 2)
    assert (bob["article_set_count"], bob["published"]) == (3, 2)


def test_nested_pages_may_select_the_key_back_to_their_parent(admin_gql: Any,
                                                             blog: dict[str, Any]) -> None:
    """The per-parent page selects whatever the client asks, the parent's key included
    (Django's window filter dropped a repeated column: IndexError before)."""
    result = admin_gql("""{ user_list(ordering: [{username: ASC}]) { id
        article_set(ordering: [{id: ASC}], offset: 1, limit: 2) { id author_id
            again: author_id author { id } }
        tags_by_article: article_set(limit: 1) { tags(limit: 5) { id } } } }""")
    assert "errors" not in result, result
    for user in result["data"]["user_list"]:
        expected = list(Article.objects.filter(author_id=user["id"]).order_by("id")
                        .values_list("id", flat=True)[1:3])
        assert [int(a["id"]) for a in user["article_set"]] == expected
        for article in user["article_set"]:
            assert article["author_id"] == article["again"] == article["author"]["id"]
            assert article["author_id"] == user["id"]


def test_connection_pages_by_keyset(admin_gql: Any, blog: dict[str, Any]) -> None:
    query = """query($after: String) { article_connection(first: 4, after: $after,
        ordering: [{published: DESC}, {title: ASC}]) { total_count
        page_info { has_next_page has_previous_page end_cursor }
        edges { cursor node { title published } } } }"""
    first = admin_gql(query)["data"]["article_connection"]
    assert first["total_count"] == 6
    assert first["page_info"]["has_next_page"] is True
    second = admin_gql(query, {"after": first["page_info"]["end_cursor"]})
    page = second["data"]["article_connection"]
    titles = [e["node"]["title"] for e in first["edges"] + page["edges"]]
    assert titles == ["Article 1", "Article 2", "Article 4", "Article 5",
                      "Article 0", "Article 3"]
    assert page["page_info"] == {"has_next_page": False, "has_previous_page": True,
                                 "end_cursor": page["edges"][-1]["cursor"]}


def test_many_to_many_both_sides_and_reverse_one_to_one(admin_gql: Any,
                                                        blog: dict[str, Any]) -> None:
    result = admin_gql("""{ tag_list(ordering: [{name: ASC}]) { name articles { title }
                                                               articles_count }
        user_list(filters: {username: {exact: "ada"}}) { profile { bio role } }
        profile_list { user { username } } }""")
    data = result["data"]
    assert [(t["name"], [a["title"] for a in t["articles"]], t["articles_count"])
            for t in data["tag_list"]] == [
        ("django", ["Article 1"], 1), ("python", ["Article 1"], 1), ("rust", ["Article 2"], 1)]
    assert data["user_list"] == [{"profile": {"bio": "Countess", "role": "EDITOR"}}]
    assert data["profile_list"] == [{"user": {"username": "ada"}}]


def test_every_scalar_kind_reads_in_its_wire_form(admin_gql: Any) -> None:
    token = uuid.uuid4()
    Scalars.objects.create(
        char="c", integer=3, big=2**40, floating=1.5, decimal=Decimal("12.30"), boolean=True,
        date=datetime.date(2024, 2, 29), datetime=datetime.datetime(2024, 2, 29, 12, 0,
                                                                    tzinfo=datetime.UTC),
        time=datetime.time(13, 45), duration=datetime.timedelta(days=1, hours=2), uuid=token,
        binary=b"\x00\xff", json={"a": [1, 2]}, ip="10.0.0.1", attachment="files/report.pdf",
        kind="a-b", level=Scalars.Level.HIGH, shout="HEY", opaque="raw",
        secret_token="never", password="never")
    result = admin_gql("""{ scalars_list { char integer big floating decimal boolean date
        datetime time duration uuid binary json ip attachment { name url } kind level shout
        opaque } }""")
    assert "errors" not in result
    assert result["data"]["scalars_list"] == [{
        "char": "c", "integer": 3, "big": str(2**40), "floating": 1.5, "decimal": "12.30",
        "boolean": True, "date": "2024-02-29", "datetime": "2024-02-29T12:00:00+00:00",
        "time": "13:45:00", "duration": "P1DT02H00M00S", "uuid": str(token),
        "binary": "AP8=", "json": {"a": [1, 2]}, "ip": "10.0.0.1",
        "attachment": {"name": "files/report.pdf", "url": "/media/files/report.pdf"},
        "kind": "a_b", "level": "HIGH", "shout": "HEY", "opaque": "raw"}]
    empty = Scalars.objects.create(char="d")
    result = admin_gql('query($pk: ID!) { scalars(pk: $pk) { attachment { name } kind } }',
                       {"pk": str(empty.pk)})
    assert result["data"]["scalars"] == {"attachment": None, "kind": None}


def test_self_circular_generic_inheritance_and_proxy(admin_gql: Any) -> None:
    root = Node.objects.create(name="root")
    Node.objects.create(name="leaf", parent=root)
    writer = Writer.objects.create(name="Le Guin")
    book = Book.objects.create(title="The Dispossessed", writer=writer)
    writer.best_book = book
    writer.save()
    book.co_writers.add(writer)
    Label.objects.create(text="classic", target=book)
    Label.objects.create(text="author", target=writer)
    Restaurant.objects.create(name="Luigi", serves_pizza=True)
    Place.objects.create(name="Park")
    result = admin_gql("""{
        testapp_node_list(filters: {parent_id: {isnull: true}}) {
            name children { name parent { name } } }
        writer_list { best_book { title writer { name } } co_written { title } }
        label_list(ordering: [{text: ASC}]) { text target { __typename
            ... on Book { title } ... on Writer { name } } }
        book_list { labels { text } }
        place_list(ordering: [{name: ASC}]) { name restaurant { serves_pizza } }
        restaurant_list { name serves_pizza place_ptr { name } }
        big_place_list(ordering: [{name: ASC}]) { name }
    }""")
    assert "errors" not in result, result
    data = result["data"]
    assert data["testapp_node_list"] == [
        {"name": "root", "children": [{"name": "leaf", "parent": {"name": "root"}}]}]
    assert data["writer_list"] == [{"best_book": {"title": "The Dispossessed",
                                                  "writer": {"name": "Le Guin"}},
                                    "co_written": [{"title": "The Dispossessed"}]}]
    assert data["label_list"] == [
        {"text": "author", "target": {"__typename": "Writer", "name": "Le Guin"}},
        {"text": "classic", "target": {"__typename": "Book", "title": "The Dispossessed"}}]
    assert data["book_list"] == [{"labels": [{"text": "classic"}]}]
    assert data["place_list"] == [{"name": "Luigi", "restaurant": {"serves_pizza": True}},
                                  {"name": "Park", "restaurant": None}]
    assert data["restaurant_list"] == [{"name": "Luigi", "serves_pizza": True,
                                        "place_ptr": {"name": "Luigi"}}]
    assert [p["name"] for p in data["big_place_list"]] == ["Luigi", "Park"]
    assert ContentType.objects.count() > 0


def test_fragments_aliases_directives_and_typename(admin_gql: Any, blog: dict[str, Any]) -> None:
    result = admin_gql("""query($withTags: Boolean!) {
        __typename
        first: article_list(limit: 1, ordering: [{id: ASC}]) { ...Fields }
        last: article_list(limit: 1, ordering: [{id: DESC}]) { ... on Article { title } }
    }
    fragment Fields on Article { __typename title tags @include(if: $withTags) { name }
                                 author @skip(if: true) { username } }""", {"withTags": False})
    assert result == {"data": {"__typename": "Query",
                               "first": [{"__typename": "Article", "title": "Article 0"}],
                               "last": [{"title": "Article 5"}]}}


NESTED = """{ article_list(limit: %d, ordering: [{id: ASC}]) { title author { username
    article_set(limit: 10) { title tags(limit: 5) { name } } }
    tags(limit: 5) { name articles(limit: 10) { title } } comment_set_count
    comment_set(limit: 10) { body author { username } } } }"""


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("rows", [2, 6])
def test_query_count_does_not_grow_with_rows(admin_gql: Any, blog: dict[str, Any],
                                              rows: int, compiled: bool) -> None:
    """list -> FK -> reverse list -> many-to-many, and back: one query per level (the
    reader), or one statement for everything (compiled reads, on PostgreSQL)."""
    admin_gql("{ me { id } }")  # session and user loaded once, outside the count
    with override_settings(API_GRAPHQL={"COMPILED_READS": compiled}), \
            CaptureQueriesContext(connection) as queries:
        result = admin_gql(NESTED % rows)
    assert "errors" not in result
    assert len(result["data"]["article_list"]) == rows
    reads = [q["sql"] for q in queries.captured_queries
             if "django_session" not in q["sql"] and "auth_" not in q["sql"]]
    if compiled and connection.vendor == "postgresql":
        assert len(reads) == 1, "\n".join(reads)
        return
    # 1. articles joined with their authors, comment counts as a subquery;
    # 2. the authors' articles; 3. those articles' tags; 4. the articles' tags;
    # 5. the tags' articles; 6. the comments joined with their authors.
    assert len(reads) == 6, "\n".join(reads)
