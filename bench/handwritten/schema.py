"""The hand-written strawberry-django schema for the demo models.

GraphQL names match ours (``article``, ``article_list``, ``comment_set_count``;
``auto_camel_case=False``) so the benchmark can send near-identical documents; the
only difference is strawberry-django's pagination argument
(``pagination: {limit: 20}`` instead of our ``limit: 20``).
"""

from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import Count
from strawberry import auto
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from myproject import models


@strawberry_django.filter_type(models.Article, lookups=True)
class ArticleFilter:
    id: auto
    title: auto
    published: auto


@strawberry_django.type(models.User)
class User:
    id: auto
    username: auto
    email: auto
    created_at: auto


@strawberry_django.type(models.Tag)
class Tag:
    id: auto
    name: auto


@strawberry_django.type(models.Article, filters=ArticleFilter, pagination=True)
class Article:
    id: auto
    title: auto
    content: auto
    published: auto
    created_at: auto
    author: User
    tags: list[Tag]

    # The optimizer adds this annotation to the list query, so the count costs no
    # extra query per article (the idiomatic way to expose a count).
    @classmethod
    def get_queryset(cls, queryset, info, **kwargs):  # type: ignore[no-untyped-def]
        # Django drops Meta.ordering from GROUP BY queries (the count annotation
        # makes one), so the order is stated, as a careful developer would.
        return queryset.order_by("-created_at", "pk")

    @strawberry_django.field(annotate={"_comment_count": Count("comment", distinct=True)})
    def comment_set_count(self, root: models.Article) -> int:
        return root._comment_count  # type: ignore[attr-defined]


@strawberry.type
class Query:
    article: Article = strawberry_django.field()
    article_list: list[Article] = strawberry_django.field()


def _config() -> StrawberryConfig:
    return StrawberryConfig(auto_camel_case=False)


schema = strawberry.Schema(query=Query, config=_config(),
                           extensions=[DjangoOptimizerExtension])

#: The same schema with strawberry's parser and validation caches switched on.
schema_with_caches = strawberry.Schema(
    query=Query, config=_config(),
    extensions=[DjangoOptimizerExtension, ParserCache(maxsize=100), ValidationCache(maxsize=100)],
)
