"""How the demo exposes its models: only what differs from the safe defaults.

Anyone (even anonymous) may read published articles, their tags and the visible
comments on them; everything else needs Django's view permission, as in the admin.
"""

from typing import Any

from django.db.models import Q
from django.db.models.functions import Length

import api_graphql
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
