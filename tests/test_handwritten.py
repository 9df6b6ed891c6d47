"""Hand-written strawberry / strawberry-django parts merged into the derived schema.

The demo registers ``trending_articles``, ``tag_usage`` and ``publish_drafts``
(myproject/graphql.py); the tests here register more on the site's registry for the
length of one test (``extra``), or build a schema from a registry of their own.
"""

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry
import strawberry_django
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.test import Client

import api_graphql
from api_graphql import tokens
from api_graphql.errors import GraphQLUserError
from api_graphql.registry import ExposureRegistry, ModelConfig, site
from api_graphql.schema import build_schema, reset_schema
from api_graphql.type_factory import NameTaken
from myproject.models import Article, Comment, Tag, User
from tests.servers import DaphneServer, graphql_post
from tests.testapp.models import Scalars
from tests.ws_client import GraphQLSocket

pytestmark = pytest.mark.django_db

TRENDING = """query($limit: Int!) { trending_articles(limit: $limit) {
    id title published author { username } tags { name } } }"""


@pytest.fixture
def blog() -> dict[str, Any]:
    """Four articles, two published; the drafts have the most comments."""
    ada = User.objects.create(email="ada@example.com", username="ada")
    python = Tag.objects.create(name="python")
    made = {}
    for title, published, comments in (("hot draft", False, 5), ("warm draft", False, 4),
                                       ("hot post", True, 3), ("cold post", True, 0)):
        article = Article.objects.create(title=title, content="some words here",
                                         author=ada, published=published)
        article.tags.add(python)
        for n in range(comments):
            Comment.objects.create(article=article, author=ada, body=f"c{n}",
                                   status=Comment.Status.VISIBLE)
        made[title] = article
    return made


@pytest.fixture
def extra() -> Iterator[list[type]]:
    """Classes registered on the site for one test, then removed."""
    registered: list[type] = []
    yield registered
    for cls in registered:
        site.unregister_handwritten(cls)
    reset_schema()


def _titles(result: dict[str, Any], field: str = "trending_articles") -> list[str]:
    assert "errors" not in result, result
    return [row["title"] for row in result["data"][field]]


# -- reads return derived types, through the user's row rules -----------------------
def test_a_queryset_is_narrowed_before_its_slice(gql: Any, gql_as: Any, make_user: Any,
                                                 blog: dict[str, Any]) -> None:
    """Anonymous users read published articles only: the top two they may read, not
    the top two of all articles filtered afterwards (that would be none)."""
    assert _titles(gql(TRENDING, {"limit": 2})) == ["hot post", "cold post"]
    editor = gql_as(make_user("editor", actions=("view", "change")))
    assert _titles(editor(TRENDING, {"limit": 2})) == ["hot draft", "warm draft"]


def test_relations_of_a_derived_type_keep_their_own_permissions(
        gql: Any, gql_as: Any, make_user: Any, blog: dict[str, Any]) -> None:
    """The demo's users are not public: the author is null for anonymous callers, and
    shown to a holder of view_user; tags are public."""
    rows = gql(TRENDING, {"limit": 1})["data"]["trending_articles"]
    assert rows == [{"id": str(blog["hot post"].pk), "title": "hot post", "published": True,
                     "author": None, "tags": [{"name": "python"}]}]
    viewer = gql_as(make_user("viewer", actions=("view",)))
    rows = viewer(TRENDING, {"limit": 1})["data"]["trending_articles"]
    assert rows[0]["author"] == {"username": "ada"}


def test_a_document_mixing_derived_and_hand_written_fields(gql: Any,
                                                           blog: dict[str, Any]) -> None:
    result = gql("""{ article_count trending_articles(limit: 1) { title }
                      tag_list { name } }""")
    assert result == {"data": {"article_count": 2,
                               "trending_articles": [{"title": "hot post"}],
                               "tag_list": [{"name": "python"}]}}


def test_instances_and_lists_are_read_again_and_unreadable_ones_dropped(
        extra: list[type], gql: Any, gql_as: Any, make_user: Any,
        blog: dict[str, Any]) -> None:
    @strawberry.type
    class Picks:
        @strawberry.field
        def picks(self) -> list[api_graphql.model_type(Article)]:  # type: ignore[valid-type]
            return list(Article.objects.order_by("title"))  # drafts included

        @strawberry.field
        def pick(self, title: str) -> api_graphql.model_type(Article) | None:  # type: ignore[valid-type]
            return Article.objects.get(title=title)

        @strawberry.field
        def must_pick(self, title: str) -> api_graphql.model_type(Article):  # type: ignore[valid-type]
            return Article.objects.get(title=title)

    extra.append(site.register_query(Picks))
    query = """query($t: String!) { picks { title } pick(title: $t) { title } }"""
    result = gql(query, {"t": "hot draft"})
    assert result["data"] == {"picks": [{"title": "cold post"}, {"title": "hot post"}],
                              "pick": None}
    result = gql(query, {"t": "hot post"})
    assert result["data"]["pick"] == {"title": "hot post"}
    forbidden = gql("""{ must_pick(title: "hot draft") { title } }""")
    assert forbidden["data"] is None
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    editor = gql_as(make_user("editor", actions=("view",)))
    assert [r["title"] for r in editor(query, {"t": "hot draft"})["data"]["picks"]] == [
        "cold post", "hot draft", "hot post", "warm draft"]


def test_a_strawberry_django_list_field_is_narrowed(extra: list[type], gql: Any,
                                                    gql_as: Any, make_user: Any,
                                                    blog: dict[str, Any]) -> None:
    """Comments on drafts are not readable by anonymous users (CommentConfig)."""

    @strawberry_django.type(Comment)
    class CommentText:
        body: strawberry.auto

    @strawberry.type
    class Comments:
        all_comments: list[CommentText] = strawberry_django.field()

    extra.append(site.register_query(Comments))
    anonymous = gql("{ all_comments { body } }")["data"]["all_comments"]
    assert len(anonymous) == 3  # the published "hot post"'s three
    viewer = gql_as(make_user("viewer", actions=("view",)))
    assert len(viewer("{ all_comments { body } }")["data"]["all_comments"]) == 12


def test_the_demo_strawberry_django_type(gql: Any, blog: dict[str, Any]) -> None:
    assert gql("{ tag_usage { name uses } }") == {
        "data": {"tag_usage": [{"name": "python", "uses": 2}]}}


# -- mutations -----------------------------------------------------------------------
PUBLISH = """mutation($t: String!) { publish_drafts(title_contains: $t) { title published } }"""


def _client_as(user: Any) -> Any:
    from tests.conftest import GraphQLClient

    return GraphQLClient(Client()).login(user)


def test_a_hand_written_mutation_returns_derived_rows(make_user: Any,
                                                      blog: dict[str, Any]) -> None:
    editor = _client_as(make_user("editor", actions=("view", "change")))
    result = editor(PUBLISH, {"t": "draft"})
    assert result == {"data": {"publish_drafts": [
        {"title": "hot draft", "published": True}, {"title": "warm draft", "published": True}]}}
    assert Article.objects.filter(published=False).count() == 0


def test_requires_is_forbidden_without_the_permission(make_user: Any,
                                                     blog: dict[str, Any]) -> None:
    viewer = _client_as(make_user("viewer", actions=("view",)))
    result = viewer(PUBLISH, {"t": "draft"})
    assert result["data"] is None
    assert result["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert result["errors"][0]["message"] == (
        "You do not have the permission myproject.change_article.")
    assert result["errors"][0]["path"] == ["publish_drafts"]
    assert Article.objects.filter(published=False).count() == 2


def test_a_validation_error_is_bad_user_input_and_rolls_back(make_user: Any,
                                                             blog: dict[str, Any]) -> None:
    Article.objects.filter(title="warm draft").update(content="  ")
    editor = _client_as(make_user("editor", actions=("view", "change")))
    result = editor(PUBLISH, {"t": "draft"})
    assert result["data"] is None
    error = result["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT",
                                   "messages": ["An empty article cannot be published."]}
    assert Article.objects.filter(published=False).count() == 2  # hot draft rolled back


def test_a_strawberry_django_mutation_behind_requires(extra: list[type], make_user: Any,
                                                      gql: Any) -> None:
    """strawberry_django.mutations.create as a team writes it: our permission class
    decides, full_clean's ValidationError is BAD_USER_INPUT with its messages."""

    @strawberry_django.input(Tag)
    class NewTag:
        name: strawberry.auto

    @strawberry_django.type(Tag)
    class CreatedTag:
        name: strawberry.auto

    @strawberry.type
    class TagWrites:
        add_tag: CreatedTag = strawberry_django.mutations.create(
            NewTag, permission_classes=[api_graphql.requires("myproject.add_tag")])

    extra.append(site.register_mutation(TagWrites))
    document = 'mutation { add_tag(data: {name: "django"}) { name } }'
    viewer = _client_as(make_user("viewer", actions=("view",)))
    refused = viewer(document)
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert not Tag.objects.filter(name="django").exists()
    editor = _client_as(make_user("editor", actions=("view", "add")))
    assert editor(document) == {"data": {"add_tag": {"name": "django"}}}
    again = editor(document)  # Tag.name is unique: full_clean refuses the second one
    assert again["data"] is None
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", again
    assert again["errors"][0]["extensions"]["messages"] == [
        "Tag with this Name already exists."]
    assert Tag.objects.filter(name="django").count() == 1


# -- bad input ------------------------------------------------------------------------
def test_wrong_argument_types_are_validation_errors(gql: Any, blog: dict[str, Any]) -> None:
    response = gql.post('{ trending_articles(limit: "five") { title } }')
    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None
    assert "Int cannot represent non-integer value" in body["errors"][0]["message"]
    response = gql.post("query($l: Int!) { trending_articles(limit: $l) { title } }",
                        {"l": "five"})
    assert "Int cannot represent non-integer value" in response.json()["errors"][0]["message"]
    out_of_range = gql("{ trending_articles(limit: 500) { title } }")
    assert out_of_range["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert out_of_range["errors"][0]["message"] == "limit must be between 1 and 50."
    unknown = gql.post("{ trending_articles { title no_such_field } }").json()
    assert "Cannot query field 'no_such_field' on type 'Article'" in unknown["errors"][0][
        "message"]


def test_a_resolver_that_raises_is_masked_and_logged(extra: list[type], gql: Any,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    @strawberry.type
    class Broken:
        @strawberry.field
        def broken(self) -> int:
            raise RuntimeError("db password is hunter2")

    extra.append(site.register_query(Broken))
    with caplog.at_level(logging.ERROR, logger="api_graphql.execution"):
        response = gql.post("{ broken article_count }")
    assert response.status_code == 200
    assert b"hunter2" not in response.content
    body = response.json()
    assert body["data"] is None  # broken is Int!: the error nulls the whole data
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert any("hunter2" in str(r.exc_info and r.exc_info[1]) for r in caplog.records)


def test_django_and_api_errors_keep_their_meaning(extra: list[type], gql: Any) -> None:
    @strawberry.type
    class Refusing:
        @strawberry.field
        def denied(self) -> int | None:
            raise DjangoPermissionDenied("Only on Tuesdays.")

        @strawberry.field
        def invalid(self) -> int | None:
            raise ValidationError({"when": ["Not a day.", "Not a time."]})

        @strawberry.field
        def ours(self) -> int | None:
            raise GraphQLUserError("Too many.", limit="size")

    extra.append(site.register_query(Refusing))
    body = gql("{ denied invalid ours }")
    assert body["data"] == {"denied": None, "invalid": None, "ours": None}
    errors = {e["path"][0]: (e["message"], e["extensions"]) for e in body["errors"]}
    assert errors == {
        "denied": ("Only on Tuesdays.", {"code": "FORBIDDEN"}),
        "invalid": ("Not a day.; Not a time.", {"code": "BAD_USER_INPUT",
                                                "messages": ["Not a day.", "Not a time."]}),
        "ours": ("Too many.", {"code": "BAD_USER_INPUT", "limit": "size"}),
    }


def test_a_resolver_returning_the_wrong_model_is_an_internal_error(
        extra: list[type], gql: Any, blog: dict[str, Any]) -> None:
    @strawberry.type
    class Wrong:
        @strawberry.field
        def wrong(self) -> list[api_graphql.model_type(Article)]:  # type: ignore[valid-type]
            return list(Tag.objects.all())  # type: ignore[arg-type]

    extra.append(site.register_query(Wrong))
    result = gql("{ wrong { title } }")
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def test_limits_apply_through_hand_written_fields(gql: Any, blog: dict[str, Any],
                                                  settings: Any) -> None:
    settings.API_GRAPHQL = {**getattr(settings, "API_GRAPHQL", {}), "MAX_DEPTH": 3}
    reset_schema()
    deep = gql.post("{ trending_articles { tags { articles { title } } } }")
    error = deep.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "depth"}
    settings.API_GRAPHQL = {**settings.API_GRAPHQL, "MAX_DEPTH": 10, "MAX_COMPLEXITY": 50}
    reset_schema()
    wide = gql.post("{ trending_articles(limit: 50) { title tags(limit: 100) { name } } }")
    assert wide.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED",
                                                      "limit": "complexity"}


# -- the build refuses what would be unsafe or ambiguous ------------------------------
class Registry(ExposureRegistry):
    def __init__(self, exposed: list[Any], configs: dict[Any, Any] | None = None) -> None:
        super().__init__()
        self._exposed = exposed
        for model, config in (configs or {}).items():
            self.register(model, config)

    def exposed_models(self) -> list[Any]:
        return list(self._exposed)


def test_a_root_field_named_like_a_derived_one_fails_the_build() -> None:
    @strawberry.type
    class Clash:
        @strawberry.field
        def article_list(self) -> int:
            return 1

    registry = Registry([Article, User, Tag, Comment])
    registry.register_query(Clash)
    with pytest.raises(NameTaken, match=r"Query\.article_list .*already defined by the "
                                        r"derived schema"):
        build_schema(registry)


def test_two_hand_written_classes_with_one_field_name_fail_the_build() -> None:
    @strawberry.type
    class One:
        @strawberry.field
        def same(self) -> int:
            return 1

    @strawberry.type
    class Two:
        @strawberry.field
        def same(self) -> int:
            return 2

    registry = Registry([Tag])
    registry.register_query(One)
    registry.register_query(Two)
    with pytest.raises(NameTaken, match=r"Query\.same of .*Two is already defined by .*One"):
        build_schema(registry)


def test_a_hand_written_type_named_like_a_derived_type_fails_the_build() -> None:
    @strawberry.type(name="TagFilter")
    class Mine:
        value: int

    @strawberry.type
    class Uses:
        @strawberry.field
        def mine(self) -> Mine:
            return Mine(value=1)

    registry = Registry([Tag])
    registry.register_query(Uses)
    with pytest.raises(NameTaken, match="'TagFilter' takes a name the derived schema uses"):
        build_schema(registry)


def test_a_strawberry_django_type_may_not_show_a_secret_or_hidden_field() -> None:
    @strawberry_django.type(Scalars)
    class Leaky:
        secret_token: strawberry.auto

    @strawberry.type
    class LeakyQuery:
        leaky: list[Leaky] = strawberry_django.field()

    registry = Registry([Scalars])
    registry.register_query(LeakyQuery)
    with pytest.raises(ImproperlyConfigured, match=r"Scalars\.secret_token, which looks secret"):
        build_schema(registry)

    class HideContent(ModelConfig):
        exclude = ["content"]

    @strawberry_django.type(Article)
    class Body:
        content: strawberry.auto

    @strawberry.type
    class BodyQuery:
        bodies: list[Body] = strawberry_django.field()

    registry = Registry([Article, User, Tag], {Article: HideContent})
    registry.register_query(BodyQuery)
    with pytest.raises(ImproperlyConfigured, match=r"Article\.content, which HideContent hides"):
        build_schema(registry)


def test_model_type_of_an_unexposed_model_fails_the_build() -> None:
    @strawberry.type
    class Tags:
        @strawberry.field
        def tags(self) -> list[api_graphql.model_type(Tag)]:  # type: ignore[valid-type]
            return []

    registry = Registry([Article, User])
    registry.register_query(Tags)
    with pytest.raises(ImproperlyConfigured,
                       match=r"model_type\(\) of myproject\.tag, which the schema does not"):
        build_schema(registry)


def test_registering_an_undecorated_class_is_refused() -> None:
    class Plain:
        pass

    with pytest.raises(TypeError, match=r"not a @strawberry\.type class"):
        Registry([]).register_query(Plain)


# -- a real daphne: HTTP with a bearer token, and graphql-ws over a socket ------------
@pytest.fixture(scope="module")
def server(django_db_setup: Any) -> Iterator[DaphneServer]:
    started = DaphneServer().start()
    yield started
    started.stop()


@pytest.mark.django_db(transaction=True)
def test_over_daphne_http_and_websocket(server: DaphneServer, make_user: Any) -> None:
    """The same hand-written fields, the same answers, over both transports; the caller
    is the token's user (info.context.user), on HTTP and in connection_init."""
    ada = User.objects.create(email="ada@example.com", username="ada")
    for title, published in (("a draft", False), ("a post", True)):
        Article.objects.create(title=title, content="words", author=ada, published=published)
    editor = tokens.issue(make_user("editor", actions=("view", "change")))[0]
    viewer = tokens.issue(make_user("viewer", actions=("view",)))[0]
    url = f"{server.http}/graphql"
    query = "{ trending_articles(limit: 10) { title } }"
    assert graphql_post(url, query) == {"data": {"trending_articles": [{"title": "a post"}]}}
    bearer = {"Authorization": f"Bearer {editor}"}
    assert len(graphql_post(url, query, headers=bearer)["data"]["trending_articles"]) == 2
    refused = graphql_post(url, PUBLISH, {"t": "draft"},
                           headers={"Authorization": f"Bearer {viewer}"})
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN"}

    async def scenario() -> None:
        anonymous = await GraphQLSocket.open(server.ws)
        await anonymous.subscribe("q", query)
        assert (await anonymous.next_for("q"))["payload"] == {
            "data": {"trending_articles": [{"title": "a post"}]}}
        await anonymous.subscribe("bad", '{ trending_articles(limit: "x") { title } }')
        bad = await anonymous.next_for("bad")
        assert bad["type"] == "error" and "Int cannot represent" in bad["payload"][0]["message"]
        await anonymous.close()
        as_viewer = await GraphQLSocket.open(server.ws,
                                             init={"authorization": f"Bearer {viewer}"})
        await as_viewer.subscribe("m", PUBLISH, {"t": "draft"})
        answer = (await as_viewer.next_for("m"))["payload"]
        assert answer["errors"][0]["extensions"] == {"code": "FORBIDDEN"}, answer
        await as_viewer.close()
        as_editor = await GraphQLSocket.open(server.ws,
                                             init={"authorization": f"Bearer {editor}"})
        await as_editor.subscribe("m", PUBLISH, {"t": "draft"})
        answer = (await as_editor.next_for("m"))["payload"]
        assert answer == {"data": {"publish_drafts": [{"title": "a draft",
                                                       "published": True}]}}, answer
        await as_editor.close()

    asyncio.run(scenario())
    assert not Article.objects.filter(published=False).exists()


def test_relations_of_hand_written_types_are_narrowed_too(extra: list[type], gql: Any,
                                                          gql_as: Any, make_user: Any,
                                                          blog: dict[str, Any]) -> None:
    """A to-one relation on a strawberry_django type, typed as another strawberry_django
    type or as a derived type: null where the caller may not read the target (the
    demo's users are not public)."""

    @strawberry_django.type(User)
    class Penman:
        username: strawberry.auto

    @strawberry_django.type(Comment)
    class Remark:
        body: strawberry.auto
        author: Penman | None
        article: api_graphql.model_type(Article)  # type: ignore[valid-type]

        @strawberry_django.field
        def writer(self) -> api_graphql.model_type(User):  # type: ignore[valid-type]
            return self.author  # type: ignore[attr-defined,no-any-return]

    @strawberry.type
    class Remarks:
        remarks: list[Remark] = strawberry_django.field()

    extra.append(site.register_query(Remarks))
    query = "{ remarks { body author { username } article { title } writer { username } } }"
    anonymous = gql(query)
    assert "errors" in anonymous  # writer is non-null: an unreadable user is FORBIDDEN
    assert {e["extensions"]["code"] for e in anonymous["errors"]} == {"FORBIDDEN"}
    rows = gql("{ remarks { body author { username } article { title } } }")["data"]["remarks"]
    assert len(rows) == 3
    assert all(r["author"] is None and r["article"] == {"title": "hot post"} for r in rows)
    viewer = gql_as(make_user("viewer", actions=("view",)))(query)["data"]["remarks"]
    assert len(viewer) == 12
    assert all(r["author"] == {"username": "ada"} == r["writer"] for r in viewer)


def test_a_hand_written_read_takes_a_fixed_number_of_queries(gql: Any,
                                                              blog: dict[str, Any]) -> None:
    """The rows a resolver returns are read again by the reader: relations for all rows
    at once, so the count does not grow with the rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = """query($l: Int!) { trending_articles(limit: $l) {
        title tags { name } comment_set { body } } }"""
    counts = []
    for limit in (1, 2, 4):
        with CaptureQueriesContext(connection) as captured:
            assert len(gql(query, {"l": limit})["data"]["trending_articles"]) == min(limit, 2)
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2], counts
