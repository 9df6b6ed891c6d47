"""How the demo exposes its models: only what differs from the safe defaults.

Anyone (even anonymous) may read published articles, their tags and the visible
comments on them; everything else needs Django's view permission, as in the admin.
"""

from typing import Any

import strawberry
import strawberry_django
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Length

import api_graphql
from api_graphql.errors import GraphQLUserError
from myproject.models import Article, Comment, Tag
from myproject.tasks import export_published_articles, send_welcome_email


@api_graphql.register(Article)
class ArticleConfig(api_graphql.ModelConfig):
    #: Python, typed from the annotations: a property and a method with an argument.
    #: ``prefetch``: loading hints for a property that walks a relation (no N+1).
    computed = ["reading_time", "summary",
                api_graphql.Computed("tag_names", prefetch=["tags"])]
    #: SQL, so filterable and orderable: ``article_list(ordering: [{title_length: DESC}])``.
    annotations = {"title_length": Length("title")}
    #: The cover must be one of these images (read from its bytes, not its name).
    upload_types = {"cover": ["image/png", "image/jpeg", "image/gif", "image/webp"]}
    #: ArticleQuerySet methods, chainable from TypeScript: Article.objects.published().
    scopes = ["published", "by_author", "longer_than"]
    #: Article.publish() as a mutation: article_publish(pk), await article.publish().
    actions = {"publish": "myproject.change_article"}

    read_filter_reads_only_user = True  # permissions, then a constant rule

    def read_filter(self, user: Any) -> bool | Q:
        return super().read_filter(user) or Q(published=True)


@api_graphql.register(Comment)
class CommentConfig(api_graphql.ModelConfig):
    read_filter_reads_only_user = True

    def read_filter(self, user: Any) -> bool | Q:
        return super().read_filter(user) or Q(
            status=Comment.Status.VISIBLE, article__published=True
        )


@api_graphql.register(Tag)
class TagConfig(api_graphql.ModelConfig):
    read_filter_reads_only_user = True

    def read_filter(self, user: Any) -> bool | Q:
        return True


# Tasks: whoever may change users may email them; whoever may view articles may
# export the published ones. Runs are readable by their starter (api_graphql.tasks).
api_graphql.register_task(send_welcome_email, permission="myproject.change_user")
api_graphql.register_task(export_published_articles, permission="myproject.view_article")


# Hand-written parts, as a team already on strawberry-django writes them: merged into
# the derived Query and Mutation, read through the same permissions (api_graphql.handwritten).
@strawberry_django.type(Tag)
class TagUsage:
    """A tag and how many published articles carry it (a strawberry_django type of our own;
    its resolver decides what it counts: drafts are not public, so they are not counted)."""

    name: strawberry.auto

    @strawberry_django.field
    def uses(self) -> int:
        return self.articles.filter(published=True).count()  # type: ignore[attr-defined]


@api_graphql.register_query
@strawberry.type
class BlogQuery:
    @strawberry.field(description="The articles with the most visible comments, newest first "
                                  "among equals; only those the caller may read.")
    def trending_articles(self, limit: int = 5) -> list[api_graphql.model_type(Article)]:  # type: ignore[valid-type]
        if not 1 <= limit <= 50:
            raise GraphQLUserError("limit must be between 1 and 50.")
        return Article.objects.annotate(  # type: ignore[return-value]
            visible_comments=Count("comment", filter=Q(comment__status=Comment.Status.VISIBLE))
        ).order_by("-visible_comments", "-created_at", "-pk")[:limit]

    #: strawberry_django's own list field: the query set it builds is narrowed too.
    tag_usage: list[TagUsage] = strawberry_django.field(
        description="Every tag with the number of published articles carrying it.")


@api_graphql.register_mutation
@strawberry.type
class BlogMutation:
    @strawberry.mutation(description="Publish every draft whose title contains the text, in "
                                     "one transaction; needs myproject.change_article.",
                         permission_classes=[api_graphql.requires("myproject.change_article")])
    def publish_drafts(self, title_contains: str) -> list[api_graphql.model_type(Article)]:  # type: ignore[valid-type]
        with transaction.atomic():
            drafts = list(Article.objects.filter(title__icontains=title_contains,
                                                 published=False).order_by("pk"))
            for article in drafts:
                article.publish()  # a ValidationError rolls every one back
        return drafts
