"""Actions: the demo's Article.publish() as article_publish(pk), behind change_article."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api_graphql.registry import ModelConfig, site
from api_graphql.schema import reset_schema
from myproject.models import Article, User

pytestmark = pytest.mark.django_db

PUBLISH = """mutation($pk: ID!) { article_publish(pk: $pk) {
    ok pk errors { field message code } node { id published } } }"""


@pytest.fixture
def draft() -> Article:
    ada = User.objects.create(email="ada@example.com", username="ada")
    return Article.objects.create(title="draft", content="some words", author=ada)


def test_publish_runs_the_method_and_returns_the_object(gql_as: Any, make_user: Any,
                                                        draft: Article) -> None:
    editor = gql_as(make_user("editor", actions=("view", "change")))
    result = editor(PUBLISH, {"pk": str(draft.pk)})
    assert "errors" not in result, result
    payload = result["data"]["article_publish"]
    assert payload == {"ok": True, "pk": str(draft.pk), "errors": [],
                       "node": {"id": str(draft.pk), "published": True}}
    draft.refresh_from_db()
    assert draft.published


def test_a_validation_error_is_field_errors_and_nothing_changes(gql_as: Any, make_user: Any,
                                                                draft: Article) -> None:
    Article.objects.filter(pk=draft.pk).update(content="   ")
    editor = gql_as(make_user("editor", actions=("view", "change")))
    payload = editor(PUBLISH, {"pk": str(draft.pk)})["data"]["article_publish"]
    assert payload["ok"] is False
    assert payload["errors"] == [{"field": "content", "code": "invalid",
                                  "message": "An empty article cannot be published."}]
    draft.refresh_from_db()
    assert not draft.published


def test_without_the_permission_it_is_forbidden(gql_as: Any, make_user: Any, gql: Any,
                                                draft: Article) -> None:
    viewer = gql_as(make_user("viewer", actions=("view",)))
    result = viewer(PUBLISH, {"pk": str(draft.pk)})
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN", result
    # Anonymous users may not read the draft: to them it does not exist.
    hidden = gql(PUBLISH, {"pk": str(draft.pk)})["data"]["article_publish"]
    assert hidden["errors"][0]["code"] == "not_found" and hidden["node"] is None
    draft.refresh_from_db()
    assert not draft.published
    missing = gql_as(make_user("editor", actions=("view", "change")))(PUBLISH, {"pk": "999999"})
    assert missing["data"]["article_publish"]["errors"][0]["code"] == "not_found"
    bad = gql_as(make_user("root", superuser=True))(PUBLISH, {"pk": "not-a-number"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.fixture
def retitle_action() -> Iterator[None]:
    """A test-only action with typed arguments that saves, then raises: Article.retitle."""
    original = site._configs.get(Article)

    class WithRetitle(ModelConfig):
        actions = {"retitle": "myproject.change_article"}

    def retitle(self: Article, title: str, times: int = 1) -> None:
        self.title = title * times
        self.save(update_fields=["title"])
        if times > 3:
            raise RuntimeError("the signing key is hunter2")

    Article.retitle = retitle  # type: ignore[attr-defined]
    site.register(Article, WithRetitle)
    reset_schema()
    yield
    del Article.retitle  # type: ignore[attr-defined]
    site._configs.pop(Article, None)
    if original is not None:
        site._configs[Article] = original
    reset_schema()


RETITLE = """mutation($pk: ID!, $title: String!, $times: Int) {
  article_retitle(pk: $pk, title: $title, times: $times) {
    ok errors { field code } node { title } } }"""


def test_wrong_argument_types_and_a_method_that_raises_are_clear_errors(
        gql_as: Any, make_user: Any, draft: Article, retitle_action: None) -> None:
    editor = gql_as(make_user("editor", actions=("view", "change")))
    done = editor(RETITLE, {"pk": str(draft.pk), "title": "ab", "times": 2})
    assert done["data"]["article_retitle"] == {"ok": True, "errors": [], "node": {"title": "abab"}}
    # Wrong types are refused before the method runs: a GraphQL error naming the argument.
    for variables in ({"title": "x", "times": "three"}, {"title": 5, "times": 1}, {"times": 1}):
        result = editor(RETITLE, {"pk": str(draft.pk), **variables})
        assert result.get("data") is None and result["errors"], result
        assert any(name in result["errors"][0]["message"] for name in ("times", "title")), result
    wrong_inline = editor(f'mutation {{ article_retitle(pk: "{draft.pk}", title: "x", times: "2") '
                          "{ ok } }")
    assert "Int cannot represent" in wrong_inline["errors"][0]["message"]
    # A method that raises after saving: rolled back, a GraphQL error without its internals.
    raised = editor(RETITLE, {"pk": str(draft.pk), "title": "zz", "times": 4})
    assert raised["data"] is None
    assert raised["errors"][0]["message"] == "Article.retitle() failed (RuntimeError)."
    assert raised["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "hunter2" not in str(raised)
    draft.refresh_from_db()
    assert draft.title == "abab", "the save inside the failed method was rolled back"
