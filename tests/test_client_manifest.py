"""The client manifest (models.json) against the models and the built schema."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.db.models.functions import Lower
from graphql import GraphQLInputObjectType, get_named_type

from api_graphql.manifest import _ordering, build_manifest
from api_graphql.schema import get_schema


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return build_manifest(get_schema())


def model(manifest: dict[str, Any], label: str) -> dict[str, Any]:
    return manifest["models"][label]


def test_reverse_accessors_are_listed_with_target_and_way_back(manifest: dict[str, Any]) -> None:
    user = model(manifest, "myproject.user")
    article_set = user["relations"]["article_set"]
    assert article_set["kind"] == "reverse_many"
    assert article_set["many"] is True
    assert article_set["target"] == "myproject.article"
    assert article_set["target_type"] == "Article"
    # user.article_set.all() is Article filtered on {author: {id: ...}}.
    assert article_set["reverse"] == "author"
    assert user["relations"]["profile"]["kind"] == "reverse_one"
    assert user["relations"]["profile"]["many"] is False


def test_many_to_many_both_ways(manifest: dict[str, Any]) -> None:
    tags = model(manifest, "myproject.article")["relations"]["tags"]
    articles = model(manifest, "myproject.tag")["relations"]["articles"]
    assert (tags["kind"], tags["target"], tags["reverse"]) == ("m2m", "myproject.tag", "articles")
    assert (articles["kind"], articles["target"], articles["reverse"]) == (
        "m2m", "myproject.article", "tags")


def test_meta_ordering_as_order_keys(manifest: dict[str, Any]) -> None:
    # What an unordered queryset's rows come in: last() reverses it, qs.live() keeps it.
    assert model(manifest, "myproject.article")["ordering"] == ["-created_at"]
    assert model(manifest, "myproject.user")["ordering"] == []


def test_meta_ordering_that_no_key_names_is_null() -> None:
    def spec(*ordering: Any) -> Any:
        meta = SimpleNamespace(ordering=list(ordering))
        return SimpleNamespace(model=SimpleNamespace(_meta=meta))

    assert _ordering(spec(F("title").desc(), "pk", "?")) == ["-title", "pk"]
    assert _ordering(spec("title", Lower("title"))) is None
    assert _ordering(spec(F("title").asc(nulls_last=True))) is None


def test_lookups_and_transforms_follow_the_field_kind(manifest: dict[str, Any]) -> None:
    fields = model(manifest, "myproject.article")["fields"]
    assert "icontains" in fields["title"]["lookups"]
    assert "in" in fields["id"]["lookups"]
    assert "icontains" not in fields["published"]["lookups"]
    assert fields["published"]["lookups"] == ["exact", "isnull"]
    assert fields["created_at"]["transforms"]["year"] == "Int"
    assert fields["created_at"]["transforms"]["date"] == "Date"
    assert manifest["scalars"]["Date"]["transforms"]["year"] == "Int"
    assert manifest["lookup_operands"]["in"] == "list"
    assert manifest["lookup_operands"]["icontains"] == "String"


def test_django_field_classes_and_graphql_types(manifest: dict[str, Any]) -> None:
    fields = model(manifest, "myproject.article")["fields"]
    assert fields["title"]["django_field"] == "CharField"
    assert fields["title"]["max_length"] == 200
    assert fields["content"]["django_field"] == "TextField"
    assert fields["author_id"]["django_field"] == "ForeignKey"
    assert fields["author_id"]["relation"] == "author"
    assert fields["id"]["primary_key"] is True
    assert fields["created_at"]["editable"] is False  # auto_now_add
    scalars = model(manifest, "testapp.scalars")["fields"]
    assert scalars["shout"]["django_field"] == "UpperCharField"
    assert scalars["shout"]["graphql_type"] == "String"
    assert scalars["attachment"]["graphql_type"] == "File"
    assert "icontains" in scalars["attachment"]["lookups"]
    assert scalars["json"]["orderable"] is False
    assert "password" not in scalars and "secret_token" not in scalars


def test_enum_members_map_to_stored_values(manifest: dict[str, Any]) -> None:
    status = model(manifest, "myproject.comment")["fields"]["status"]
    assert status["enum"] == {"type": "CommentStatus",
                              "values": {"pending": "pending", "visible": "visible",
                                         "hidden": "hidden"}}
    assert status["lookups"] == ["exact", "in", "isnull"]
    role = model(manifest, "myproject.profile")["fields"]["role"]["enum"]
    assert role["values"] == {"READER": 1, "AUTHOR": 2, "EDITOR": 3}


def test_generic_and_one_to_one_relations(manifest: dict[str, Any]) -> None:
    writer = model(manifest, "testapp.writer")["relations"]
    assert writer["passport"]["kind"] == "reverse_one"
    assert writer["co_written"]["reverse"] == "co_writers"
    label = model(manifest, "testapp.label")["relations"]["target"]
    assert label["kind"] == "generic" and label["target"] is None
    assert label["filterable"] is False


def test_every_name_exists_in_the_schema(manifest: dict[str, Any]) -> None:
    schema = get_schema().graphql_schema
    query = schema.query_type
    mutation = schema.mutation_type
    assert query is not None and mutation is not None
    for label, entry in manifest["models"].items():
        for root in entry["queries"].values():
            assert root in query.fields, (label, root)
        for action in entry["mutations"].values():
            assert action["field"] in mutation.fields, (label, action)
            if action["input"]:
                assert schema.get_type(action["input"]) is not None
        filter_type = schema.get_type(entry["filter_type"])
        assert isinstance(filter_type, GraphQLInputObjectType)
        for name, field in entry["fields"].items():
            lookup_type = get_named_type(filter_type.fields[name].type)
            assert isinstance(lookup_type, GraphQLInputObjectType)
            offered = set(lookup_type.fields)
            assert set(field["lookups"]) | set(field["transforms"]) <= offered, (label, name)
        for name, relation in entry["relations"].items():
            assert (name in filter_type.fields) == relation["filterable"], (label, name)
            if relation["reverse"]:
                target = manifest["models"][relation["target"]]
                assert target["relations"][relation["reverse"]]["target"] == label
    for name in ("login", "logout", "token_auth", "refresh_token"):
        assert manifest["auth"][name] == name


def test_command_writes_and_checks(tmp_path: Path) -> None:
    call_command("export_client_schema", out=str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "models.json", "schema.graphql", "schema.json"]
    introspection = json.loads((tmp_path / "schema.json").read_text())
    assert introspection["__schema"]["queryType"]["name"] == "Query"
    assert "article_list" in (tmp_path / "schema.graphql").read_text()
    call_command("export_client_schema", out=str(tmp_path), check=True)
    (tmp_path / "models.json").write_text("{}\n")
    with pytest.raises(CommandError, match=r"models\.json"):
        call_command("export_client_schema", out=str(tmp_path), check=True)
