"""The naming rule (api_graphql/naming.py, docs/NAMING.md): sanitised, reserved, never
overwritten, and stable when other apps are installed or removed."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import models
from django.test.utils import isolate_apps
from graphql import GraphQLEnumType, GraphQLObjectType

from api_graphql import naming
from api_graphql.registry import ExposureRegistry, ModelConfig
from api_graphql.schema import build_schema, get_schema

SNAPSHOT = Path(__file__).parent / "snapshots" / "schema.graphql"


class Isolated(models.Model):
    """Models declared inside ``isolate_apps`` tests belong to testapp."""

    class Meta:
        abstract = True
        app_label = "testapp"


class StaticRegistry(ExposureRegistry):
    """Exposes exactly the given models (isolated test models included)."""

    def __init__(self, exposed: list[type[models.Model]],
                 configs: dict[type[models.Model], type[ModelConfig]] | None = None) -> None:
        super().__init__()
        self._exposed = exposed
        for model, config in (configs or {}).items():
            self.register(model, config)

    def exposed_models(self) -> list[type[models.Model]]:
        return list(self._exposed)


def test_package_models_carry_their_app_label_and_project_models_keep_theirs() -> None:
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    project = [m for m in apps.get_models() if not naming.is_package_app(m)]
    packages = [Group, ContentType]
    alone = naming.type_names(project)
    together = naming.type_names([*packages, *project])  # a package listed first, too
    assert together[Group] == "AuthGroup" and together[ContentType] == "ContenttypesContentType"
    assert {m: together[m] for m in project} == alone  # installing them renamed nothing
    assert alone[apps.get_model("myproject", "Tag")] == "Tag"


def test_project_apps_setting_names_an_installed_app_as_the_projects() -> None:
    from django.contrib.auth.models import Group

    assert naming.type_names([Group], project_apps=["auth"])[Group] == "Group"


@isolate_apps("tests.testapp")
def test_reserved_and_derived_names_are_never_taken_over() -> None:
    class File(Isolated):
        pass

    class Article(Isolated):
        status = models.CharField(max_length=5, choices=[("a", "A")])
        attachment = models.FileField(null=True)

    class ArticleFilter(Isolated):  # Article's filter input is ArticleFilter
        pass

    class ArticleStatus(Isolated):  # Article.status is the enum ArticleStatus
        pass

    class ArticleList(Isolated):  # its root field article_list is Article's list
        pass

    names = naming.type_names([File, Article, ArticleFilter, ArticleStatus, ArticleList])
    assert names == {File: "TestappFile", Article: "Article",
                     ArticleFilter: "TestappArticleFilter",
                     ArticleStatus: "TestappArticleStatus", ArticleList: "TestappArticleList"}
    built = build_schema(StaticRegistry([File, Article, ArticleFilter, ArticleStatus,
                                         ArticleList]))
    schema = built.graphql_schema
    file_type = schema.get_type("File")
    assert isinstance(file_type, GraphQLObjectType) and set(file_type.fields) == {"name", "url"}
    assert isinstance(schema.get_type("ArticleStatus"), GraphQLEnumType)
    assert isinstance(schema.get_type("TestappArticleStatus"), GraphQLObjectType)
    query = built.root_fields["query"]
    assert str(query["article_list"].annotation) != str(query["testapp_article_list"].annotation)


@isolate_apps("tests.testapp")
def test_a_pinned_name_wins_and_a_taken_pin_fails_at_start_up() -> None:
    class Tag(Isolated):
        pass

    class Label(Isolated):
        pass

    class TagConfig(ModelConfig):
        type_name = "Keyword"

    built = build_schema(StaticRegistry([Tag, Label], {Tag: TagConfig}))
    assert built.graph.spec_for(Tag).type_name == "Keyword"
    assert {"keyword", "keyword_list", "keyword_count"} <= set(built.root_fields["query"])

    class Clash(ModelConfig):
        type_name = "File"

    with pytest.raises(ImproperlyConfigured, match="taken"):
        build_schema(StaticRegistry([Tag], {Tag: Clash}))

    class Invalid(ModelConfig):
        type_name = "my-tag"

    with pytest.raises(ImproperlyConfigured, match="not a GraphQL name"):
        build_schema(StaticRegistry([Tag], {Tag: Invalid}))


@isolate_apps("tests.testapp")
def test_hidden_relations_keywords_and_odd_choices_build() -> None:
    class Page(Isolated):
        title = models.CharField(max_length=10)
        state = models.CharField(max_length=10, choices=[
            ("null", "Null"), ("true", "True"), ("1st", "First"), ("__x", "X"), ("a-b", "AB")])
        order = models.CharField(max_length=1, choices=[("a", "A")])

    class Revision(Isolated):
        page = models.ForeignKey(Page, models.CASCADE, related_name="+")
        parent = models.ForeignKey("self", models.CASCADE, null=True, related_name="children+")
        pages = models.ManyToManyField(Page, related_name="+")

    Revision.add_to_class("from_", models.IntegerField(default=0))
    built = build_schema(StaticRegistry([Page, Revision]))
    schema = built.graphql_schema
    page, revision = schema.get_type("Page"), schema.get_type("Revision")
    assert isinstance(page, GraphQLObjectType) and isinstance(revision, GraphQLObjectType)
    assert not any("+" in name for name in page.fields)
    assert {"page", "page_id", "parent", "parent_id", "from_"} <= set(revision.fields)
    # Its reverse lookup, which the reader joins through, is hidden: left out, logged.
    assert "pages" not in revision.fields
    state = schema.get_type("PageState")
    assert isinstance(state, GraphQLEnumType)
    assert list(state.values) == ["null_", "true_", "_1st", "_x", "a_b"]
    assert isinstance(schema.get_type("PageOrderChoice"), GraphQLEnumType)
    assert schema.get_type("PageOrder") is not None  # the ordering input stays


def test_export_schema_check_fails_on_an_unintended_change(tmp_path: Path) -> None:
    call_command("export_schema", str(SNAPSHOT), check=True, stdout=StringIO())
    changed = tmp_path / "schema.graphql"
    changed.write_text(get_schema().sdl().replace("type Article {", "type Article {\n  x: Int"))
    errors = StringIO()
    with pytest.raises(CommandError, match="differs"):
        call_command("export_schema", str(changed), check=True, stdout=StringIO(),
                     stderr=errors)
    assert "-  x: Int" in errors.getvalue()


def test_root_field_names_are_unique_by_construction() -> None:
    built: Any = get_schema()
    every = [name for fields in built.root_fields.values() for name in fields]
    assert len(every) == len(set(every))
