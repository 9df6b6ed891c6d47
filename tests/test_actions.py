"""Actions: the demo's Article.publish() as article_publish(pk), behind change_article."""

from __future__ import annotations

from typing import Any

import pytest

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
