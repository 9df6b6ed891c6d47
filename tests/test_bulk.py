"""Bulk writes: bulk_update / bulk_delete over a filter, bulk_create, get_or_create,
update_or_create.

Expectations come from Django: the rows a filter should touch are asked of the ORM,
validation errors are what ``full_clean()`` says, deleted counts are what Django's
``Collector`` counts for the same rows, and every changed row leaves one
ChangeRecord (the event the subscribers get).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models, router
from django.db.models import Q
from django.db.models.deletion import Collector
from django.test import override_settings

from api_graphql.registry import ModelConfig, site
from api_graphql.schema import reset_schema
from myproject.models import Article, Comment, Tag, User
from realtime.models import ChangeRecord
from tests.conftest import GraphQLClient

pytestmark = pytest.mark.django_db

BULK = "ok count pks errors { index pk field message code } deleted { model count }"
UPSERT = "ok created pk errors { field message code }"


def grant(user: Any, *codenames: str) -> Any:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return get_user_model()._default_manager.get(pk=user.pk)  # no stale permission cache


@pytest.fixture
def blog() -> dict[str, Any]:
    ada = User.objects.create(email="ada@example.com", username="ada")
    bob = User.objects.create(email="bob@example.com", username="bob")
    articles = [Article.objects.create(title=f"a{i}", content="c", author=ada if i < 3 else bob,
                                       published=i % 2 == 0) for i in range(5)]
    Comment.objects.create(article=articles[0], author=bob, body="hi")
    python = Tag.objects.create(name="python")
    python.articles.add(articles[0])
    return {"ada": ada, "bob": bob, "articles": articles, "python": python}


@pytest.fixture
def client_with(gql_as: Callable[[Any], GraphQLClient],
                make_user: Any) -> Callable[..., GraphQLClient]:
    def make(*codenames: str, name: str = "writer") -> GraphQLClient:
        return gql_as(grant(make_user(name), *codenames))
    return make


def call(client: GraphQLClient, document: str, variables: dict[str, Any] | None = None,
         root: str | None = None) -> Any:
    result = client(document, variables)
    assert "errors" not in result, result
    return result["data"][root] if root else result["data"]


def events() -> list[tuple[str, str, str]]:
    return list(ChangeRecord.objects.order_by("id").values_list("model", "object_pk", "op"))


def bulk_update(client: GraphQLClient, filters: dict[str, Any], data: dict[str, Any],
                selection: str = BULK) -> dict[str, Any]:
    return client(f"mutation($f: ArticleFilter!, $d: ArticleUpdateInput!) {{ "
                  f"bulk_update_article(filters: $f, data: $d) {{ {selection} }} }}",
                  {"f": filters, "d": data})


# -- bulk_update ----------------------------------------------------------------------------
def test_bulk_update_changes_exactly_the_filtered_rows_one_event_each(
        client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("view_article", "change_article", "view_user")
    want = sorted(str(pk) for pk in Article.objects.filter(author=blog["ada"]).values_list(
        "pk", flat=True))
    ChangeRecord.objects.all().delete()
    result = bulk_update(client, {"author": {"username": {"exact": "ada"}}},
                         {"content": "rewritten"},
                         BULK + " nodes { id content author { username } }")
    payload = result["data"]["bulk_update_article"]
    assert payload["ok"] is True and payload["errors"] == []
    assert sorted(payload["pks"]) == want and payload["count"] == len(want)
    assert [n["id"] for n in payload["nodes"]] == payload["pks"]
    assert {n["content"] for n in payload["nodes"]} == {"rewritten"}
    assert set(Article.objects.filter(content="rewritten").values_list("pk", flat=True)) == {
        int(pk) for pk in want}
    assert sorted(events()) == sorted(("myproject.article", pk, "UPDATED") for pk in want)


def test_bulk_update_runs_full_clean_per_row_and_refuses_all(
        client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("view_article", "change_article", "view_user")
    ChangeRecord.objects.all().delete()
    payload = bulk_update(client, {}, {"title": "x" * 201})["data"]["bulk_update_article"]
    assert payload["ok"] is False and payload["count"] == 0 and payload["pks"] == []
    ordered = list(Article.objects.order_by("pk"))
    assert [(e["index"], e["pk"], e["field"], e["code"]) for e in payload["errors"]] == [
        (i, str(a.pk), "title", "max_length") for i, a in enumerate(ordered)]
    assert not Article.objects.filter(title__startswith="xx").exists()
    assert events() == []


def test_bulk_update_selects_among_rows_the_user_may_read_and_change(
        blog: dict[str, Any], gql_as: Any, make_user: Any) -> None:
    """A write rule (only your own articles) narrows the filter, and the rule is checked
    again on every row after the write (you cannot give your articles away)."""
    class OwnArticles(ModelConfig):
        def read_filter(self, user: Any) -> bool | Q:
            return True

        def write_filter(self, user: Any, action: Any) -> bool | Q:
            return Q(author__username=user.username) if user.is_authenticated else False

    saved = site.config(Article)
    site.register(Article, OwnArticles)
    reset_schema()
    try:
        ada = User.objects.get(username="ada")
        client = gql_as(grant(make_user("ada"), "view_user"))  # named like the demo author
        payload = bulk_update(client, {}, {"content": "mine"})["data"]["bulk_update_article"]
        assert payload["ok"] is True
        assert set(map(int, payload["pks"])) == set(
            Article.objects.filter(author=ada).values_list("pk", flat=True))
        assert not Article.objects.filter(author=blog["bob"], content="mine").exists()
        result = bulk_update(client, {}, {"author": str(blog["bob"].pk)})
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert Article.objects.filter(author=ada).count() == 3
    finally:
        site.register(Article, type(saved))
        reset_schema()


def test_bulk_update_is_bounded_by_the_setting(client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("view_article", "change_article", "view_user")
    with override_settings(API_GRAPHQL={"BULK_MAX_ROWS": 4}):
        result = bulk_update(client, {}, {"content": "too many"})
        assert result["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": 4}
        assert not Article.objects.filter(content="too many").exists()
        fits = bulk_update(client, {"author": {"username": {"exact": "ada"}}}, {"content": "ok"})
        assert fits["data"]["bulk_update_article"]["count"] == 3


def test_bulk_writes_need_the_permissions_of_single_writes(
        client_with: Any, gql: GraphQLClient, blog: dict[str, Any]) -> None:
    viewer = client_with("view_article", name="viewer")
    for client in (gql, viewer):
        result = bulk_update(client, {}, {"content": "no"})
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert result["data"] is None
    assert not Article.objects.filter(content="no").exists()


# -- bulk_delete ----------------------------------------------------------------------------
def bulk_delete(client: GraphQLClient, filters: dict[str, Any],
                selection: str = BULK) -> dict[str, Any]:
    return client(f"mutation($f: ArticleFilter!) {{ bulk_delete_article(filters: $f) "
                  f"{{ {selection} }} }}", {"f": filters})


def test_a_delete_that_would_cascade_to_rows_you_may_not_delete_is_refused(
        client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("view_user", "view_article", "delete_article")
    before = Article.objects.count()
    result = bulk_delete(client, {"author": {"username": {"exact": "ada"}}})
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Comment" in result["errors"][0]["message"]
    assert Article.objects.count() == before and Comment.objects.count() == 1
    # Rows without comments cascade to nothing the user may not delete.
    result = bulk_delete(client, {"author": {"username": {"exact": "bob"}}})
    assert result["data"]["bulk_delete_article"]["count"] == 2


def test_bulk_delete_counts_what_djangos_collector_counts(
        client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("view_user", "view_article", "delete_article", "delete_comment")
    doomed = list(Article.objects.filter(author=blog["ada"]))
    comment = Comment.objects.get()
    collector = Collector(using=router.db_for_write(Article))
    collector.collect(doomed)
    want = {model._meta.label: len(objs) for model, objs in collector.data.items()}
    for qs in collector.fast_deletes:
        want[qs.model._meta.label] = want.get(qs.model._meta.label, 0) + qs.count()
    ChangeRecord.objects.all().delete()
    payload = bulk_delete(client, {"author": {"username": {"exact": "ada"}}},
                          BULK + " nodes { id title }")["data"]["bulk_delete_article"]
    assert payload["ok"] is True
    assert sorted(payload["pks"]) == sorted(str(a.pk) for a in doomed)
    assert [n["title"] for n in payload["nodes"]] == [a.title for a in sorted(
        doomed, key=lambda a: a.pk)]
    assert {d["model"]: d["count"] for d in payload["deleted"]} == {
        k: v for k, v in want.items() if v}
    assert not Article.objects.filter(author=blog["ada"]).exists()
    deleted = {(m, pk) for m, pk, op in events() if op == "DELETED"}
    assert {("myproject.article", str(a.pk)) for a in doomed} <= deleted
    assert ("myproject.comment", str(comment.pk)) in deleted and not Comment.objects.exists()


def test_a_protected_row_refuses_the_delete(client_with: Any, blog: dict[str, Any],
                                            registered_protect: None) -> None:
    client = client_with("view_user", "view_article", "delete_article", "delete_comment")
    payload = bulk_delete(client, {})["data"]["bulk_delete_article"]
    assert payload["ok"] is False and payload["errors"][0]["code"] == "protected"
    assert Article.objects.count() == 5


@pytest.fixture
def registered_protect() -> Iterator[None]:
    """Comment.article temporarily PROTECT instead of CASCADE."""
    field = Comment._meta.get_field("article")
    remote = field.remote_field
    saved = remote.on_delete
    remote.on_delete = models.PROTECT
    try:
        yield
    finally:
        remote.on_delete = saved


# -- bulk_create -----------------------------------------------------------------------------
def bulk_create(client: GraphQLClient, rows: list[dict[str, Any]],
                selection: str = BULK) -> dict[str, Any]:
    return client(f"mutation($d: [TagCreateInput!]!) {{ bulk_create_tag(data: $d) "
                  f"{{ {selection} }} }}", {"d": rows})


def test_bulk_create_is_all_or_nothing_with_errors_by_position(
        client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("add_tag")
    ChangeRecord.objects.all().delete()
    payload = bulk_create(client, [{"name": "go"}, {"name": "python"}, {"name": ""}])[
        "data"]["bulk_create_tag"]
    assert payload["ok"] is False
    assert {(e["index"], e["field"], e["code"]) for e in payload["errors"]} == {
        (1, "name", "unique"), (2, "name", "blank")}
    assert not Tag.objects.filter(name="go").exists() and events() == []
    payload = bulk_create(client, [{"name": "go"}, {"name": "rust"}],
                          BULK + " nodes { name }")["data"]["bulk_create_tag"]
    assert payload["ok"] is True and payload["count"] == 2
    assert [n["name"] for n in payload["nodes"]] == ["go", "rust"]
    made = {str(pk) for pk in Tag.objects.filter(name__in=["go", "rust"]).values_list(
        "pk", flat=True)}
    assert set(payload["pks"]) == made
    assert sorted(events()) == sorted(("myproject.tag", pk, "CREATED") for pk in made)
    with override_settings(API_GRAPHQL={"BULK_MAX_ROWS": 1}):
        result = bulk_create(client, [{"name": "a"}, {"name": "b"}])
        assert result["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


# -- get_or_create / update_or_create -------------------------------------------------------
def upsert(client: GraphQLClient, op: str, lookup: dict[str, Any], **args: Any) -> Any:
    extra = "".join(f", {k}: ${k}" for k in args)
    defs = "".join(f", ${k}: TagUpdateInput" for k in args)
    return client(f"mutation($l: TagLookupInput!{defs}) {{ {op}_tag(lookup: $l{extra}) "
                  f"{{ {UPSERT} node {{ name }} }} }}", {"l": lookup, **args})


def test_get_or_create_gets_then_creates(client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("add_tag")
    got = upsert(client, "get_or_create", {"name": "python"})["data"]["get_or_create_tag"]
    assert got == {"ok": True, "created": False, "pk": str(blog["python"].pk), "errors": [],
                   "node": {"name": "python"}}
    ChangeRecord.objects.all().delete()
    made = upsert(client, "get_or_create", {"name": "go"})["data"]["get_or_create_tag"]
    assert made["created"] is True and made["node"] == {"name": "go"}
    assert str(Tag.objects.get(name="go").pk) == made["pk"]
    assert events() == [("myproject.tag", made["pk"], "CREATED")]
    again = upsert(client, "get_or_create", {"name": "go"})["data"]["get_or_create_tag"]
    assert again["created"] is False and again["pk"] == made["pk"]


def test_get_or_create_needs_add_only_when_it_creates(gql: GraphQLClient,
                                                      blog: dict[str, Any]) -> None:
    got = upsert(gql, "get_or_create", {"name": "python"})["data"]["get_or_create_tag"]
    assert got["created"] is False  # tags are public: anyone may get one
    refused = upsert(gql, "get_or_create", {"name": "new"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Tag.objects.filter(name="new").exists()


def test_update_or_create_is_an_upsert_on_unique_fields(client_with: Any,
                                                        blog: dict[str, Any]) -> None:
    client = client_with("add_tag", "change_tag", "view_tag")
    made = upsert(client, "update_or_create", {"name": "go"},
                  create_defaults={"name": "golang"})["data"]["update_or_create_tag"]
    assert made["created"] is True and made["node"] == {"name": "golang"}
    changed = upsert(client, "update_or_create", {"name": "python"},
                     defaults={"name": "python3"})["data"]["update_or_create_tag"]
    assert changed == {"ok": True, "created": False, "pk": str(blog["python"].pk),
                       "errors": [], "node": {"name": "python3"}}
    assert Tag.objects.get(pk=blog["python"].pk).name == "python3"
    invalid = upsert(client, "update_or_create", {"name": "python3"},
                     defaults={"name": ""})["data"]["update_or_create_tag"]
    assert invalid["ok"] is False and invalid["errors"][0]["code"] == "blank"
    assert Tag.objects.get(pk=blog["python"].pk).name == "python3"


def test_a_lookup_must_name_unique_fields(client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("add_article", "view_article")
    result = client("mutation { get_or_create_article(lookup: {title: \"a0\"}) { ok } }")
    error = result["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "unique" in error["message"]


def test_bad_input_is_a_graphql_error(client_with: Any, blog: dict[str, Any]) -> None:
    client = client_with("view_article", "change_article", "delete_article")
    wrong_type = bulk_update(client, {}, {"published": "yes"})
    assert "errors" in wrong_type and wrong_type.get("data") is None
    unknown = bulk_delete(client, {"nope": {"exact": 1}})
    assert "errors" in unknown and Article.objects.count() == 5
    empty = bulk_update(client, {}, {})
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
