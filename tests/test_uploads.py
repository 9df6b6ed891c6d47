"""File fields through the GraphQL multipart request spec: stored with the project's
storage, limits from settings, URLs back, bad input as clear GraphQL errors.

Requests are multipart bodies built by Django's test client (through every
middleware); what is stored is read back from the storage directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from myproject.models import Article, User

pytestmark = pytest.mark.django_db

#: The smallest valid PNG (1x1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
CREATE = ("mutation($d: ArticleCreateInput!) { create_article(data: $d) "
          "{ ok pk errors { field code message } node { cover { name url } } } }")
UPDATE = ("mutation($pk: ID!, $d: ArticleUpdateInput!) { update_article(pk: $pk, data: $d) "
          "{ ok errors { field code } node { cover { name url } } } }")


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path), MEDIA_URL="/media/"):
        yield tmp_path


@pytest.fixture
def author() -> User:
    return User.objects.create(email="ada@example.com", username="ada")


@pytest.fixture
def editor(make_user: Callable[..., Any]) -> Client:
    client = Client()
    client.force_login(make_user("editor", superuser=True))
    return client


def multipart(client: Client, query: str, variables: dict[str, Any],
              files: dict[str, tuple[str, SimpleUploadedFile]], **extra: Any) -> Any:
    """POST the GraphQL multipart request spec: files replace nulls at their paths."""
    data: dict[str, Any] = {
        "operations": json.dumps({"query": query, "variables": variables}),
        "map": json.dumps({key: [path] for key, (path, _) in files.items()}),
    }
    data.update({key: upload for key, (_, upload) in files.items()})
    return client.post("/graphql", data, **extra)


def png(name: str = "cover.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def stored(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def test_create_with_a_cover_stores_it_and_answers_its_url(editor: Client, author: User,
                                                           media: Path) -> None:
    response = multipart(editor, CREATE, {"d": {"title": "t", "content": "c",
                                                "author": str(author.pk), "cover": None}},
                         {"0": ("variables.d.cover", png())})
    assert response.status_code == 200
    assert "data" in response.json(), response.json()
    payload = response.json()["data"]["create_article"]
    assert payload["ok"] is True, payload
    article = Article.objects.get(pk=payload["pk"])
    assert article.cover.name.startswith("covers/cover")
    assert payload["node"]["cover"] == {"name": article.cover.name,
                                        "url": default_storage.url(article.cover.name)}
    assert payload["node"]["cover"]["url"].startswith("/media/covers/")
    assert (media / article.cover.name).read_bytes() == PNG


def test_update_replaces_and_null_clears(editor: Client, author: User, media: Path) -> None:
    article = Article.objects.create(title="t", content="c", author=author)
    response = multipart(editor, UPDATE, {"pk": str(article.pk), "d": {"cover": None}},
                         {"0": ("variables.d.cover", png("new.png"))})
    payload = response.json()["data"]["update_article"]
    assert payload["ok"] is True
    article.refresh_from_db()
    assert article.cover.name.startswith("covers/new") and stored(media) == [article.cover.name]
    cleared = editor.post("/graphql", json.dumps({"query": UPDATE, "variables": {
        "pk": str(article.pk), "d": {"cover": None}}}), content_type="application/json")
    assert cleared.json()["data"]["update_article"]["node"] == {"cover": None}
    article.refresh_from_db()
    assert article.cover.name == ""


def test_the_type_is_read_from_the_bytes_not_the_name(editor: Client, author: User,
                                                      media: Path) -> None:
    fake = SimpleUploadedFile("cover.png", b"#!/bin/sh\necho not an image\n",
                              content_type="image/png")
    response = multipart(editor, CREATE, {"d": {"title": "t", "content": "c",
                                                "author": str(author.pk), "cover": None}},
                         {"0": ("variables.d.cover", fake)})
    payload = response.json()["data"]["create_article"]
    assert payload["ok"] is False
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("cover", "file_type")]
    assert not Article.objects.exists() and stored(media) == []


def test_an_oversized_upload_is_a_clear_graphql_error(editor: Client, author: User,
                                                      media: Path) -> None:
    with override_settings(API_GRAPHQL={"UPLOAD_MAX_BYTES": 50}):
        response = multipart(editor, CREATE, {"d": {"title": "t", "content": "c",
                                                    "author": str(author.pk), "cover": None}},
                             {"0": ("variables.d.cover", png())})
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": 50}
    assert "UPLOAD_MAX_BYTES" in error["message"]
    assert not Article.objects.exists() and stored(media) == []


def test_a_string_is_never_taken_for_a_file(editor: Client, author: User) -> None:
    """Naming a path already in storage must not attach that file to a row."""
    result = editor.post("/graphql", json.dumps({"query": CREATE, "variables": {"d": {
        "title": "t", "content": "c", "author": str(author.pk), "cover": "covers/other.png"}}}),
        content_type="application/json").json()
    assert "Upload" in result["errors"][0]["message"] or "multipart" in result["errors"][0][
        "message"]
    assert not Article.objects.exists()


@pytest.mark.parametrize(("operations", "mapping", "message"), [
    ("not json", "{}", "JSON"),
    (json.dumps([{"query": "{ me { id } }"}]), "{}", "batches"),
    (json.dumps({"query": CREATE, "variables": {"d": {}}}), json.dumps({"1": ["variables.d.x"]}),
     "does not carry"),
    (json.dumps({"query": CREATE, "variables": {"d": {}}}), json.dumps({"0": ["query"]}),
     "only go into variables"),
    (json.dumps({"query": CREATE, "variables": {"d": {}}}),
     json.dumps({"0": ["variables.e.cover"]}), "does not have"),
])
def test_a_malformed_multipart_request_is_refused(editor: Client, operations: str,
                                                  mapping: str, message: str) -> None:
    response = editor.post("/graphql", {"operations": operations, "map": mapping, "0": png()})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and message in error["message"]


def test_an_upload_needs_the_permission_to_write(author: User, media: Path,
                                                 make_user: Callable[..., Any]) -> None:
    anonymous = Client()
    viewer = Client()
    viewer.force_login(make_user("viewer", actions=("view",)))
    for client in (anonymous, viewer):
        response = multipart(client, CREATE, {"d": {"title": "t", "content": "c",
                                                    "author": str(author.pk), "cover": None}},
                             {"0": ("variables.d.cover", png())})
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Article.objects.exists() and stored(media) == []


def test_too_many_files_are_refused(editor: Client, author: User) -> None:
    with override_settings(API_GRAPHQL={"UPLOAD_MAX_FILES": 1}):
        response = multipart(editor, CREATE, {"d": {"title": "t", "content": "c",
                                                    "author": str(author.pk), "cover": None}},
                             {"0": ("variables.d.cover", png()),
                              "1": ("variables.d.title", png("b.png"))})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
