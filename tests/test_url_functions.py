"""The URLconf as client functions, and Django views reached with a bearer token.

The manifest's path formats are checked against Django's own ``reverse()`` for every
named URL; the middleware against real views through Django's test client (CSRF
enforced, as a browser meets it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from api_graphql import tokens
from api_graphql.url_functions import url_manifest
from myproject.models import Article, User

SAMPLES = {"number": 7, "string": "abc"}


def test_every_named_url_formats_as_django_reverses_it() -> None:
    urls = url_manifest()
    assert "article_detail" in urls and "api_graphql:graphql" in urls
    assert not any(name.startswith("admin:") for name in urls)  # URLS_EXCLUDE default
    assert urls["article_detail"]["params"] == {"pk": {
        "type": "number", "converter": "IntConverter", "regex": "[0-9]+", "slashes": False}}
    for name, entry in urls.items():
        kwargs = {p: SAMPLES[spec["type"]] for p, spec in entry["params"].items()}
        assert entry["path"] % {k: str(v) for k, v in kwargs.items()} == reverse(
            name, kwargs=kwargs), name


@pytest.fixture
def article(db: Any) -> Article:
    ada = User.objects.create(email="ada@example.com", username="ada")
    return Article.objects.create(title="Draft", content="c", author=ada, published=False)


def detail(article: Article) -> str:
    return reverse("article_detail", kwargs={"pk": article.pk})


def test_a_bearer_token_reaches_a_django_view_without_csrf(article: Article,
                                                           make_user: Any) -> None:
    editor = make_user("editor", actions=("view", "change"))
    token, _ = tokens.issue(editor)
    client = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    got = client.get(detail(article), **auth)
    assert got.status_code == 200 and got.json()["viewer"] == "editor"
    changed = client.post(detail(article), json.dumps({"title": "Renamed"}),
                          content_type="application/json", **auth)
    assert changed.status_code == 200, changed.content
    article.refresh_from_db()
    assert article.title == "Renamed"


def test_without_a_token_django_decides_as_always(article: Article, make_user: Any) -> None:
    assert Client().get(detail(article)).status_code == 404  # unpublished, anonymous
    session = Client(enforce_csrf_checks=True)
    session.force_login(make_user("editor", actions=("view", "change")))
    refused = session.post(detail(article), json.dumps({"title": "x"}),
                           content_type="application/json")
    assert refused.status_code == 403  # Django's CSRF check
    article.refresh_from_db()
    assert article.title == "Draft"


def test_an_invalid_token_is_401_not_anonymous(article: Article) -> None:
    response = Client().get(detail(article), HTTP_AUTHORIZATION="Bearer forged")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized: invalid token."}
    # The GraphQL view keeps answering with its own GraphQL error.
    graphql = Client().post("/graphql", json.dumps({"query": "{ me { id } }"}),
                            content_type="application/json", HTTP_AUTHORIZATION="Bearer forged")
    assert graphql.status_code == 401
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
