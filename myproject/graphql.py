"""How the demo exposes its models: only what differs from the safe defaults.

Anyone (even anonymous) may read published articles, their tags and the visible
comments on them; everything else needs Django's view permission, as in the admin.
"""

from typing import Any

from django.db.models import Q

import api_graphql
from myproject.models import Article, Comment, Tag


@api_graphql.register(Article)
class ArticleConfig(api_graphql.ModelConfig):
    def read_filter(self, user: Any) -> bool | Q:
        return super().read_filter(user) or Q(published=True)


@api_graphql.register(Comment)
class CommentConfig(api_graphql.ModelConfig):
    def read_filter(self, user: Any) -> bool | Q:
        return super().read_filter(user) or Q(
            status=Comment.Status.VISIBLE, article__published=True
        )


@api_graphql.register(Tag)
class TagConfig(api_graphql.ModelConfig):
    def read_filter(self, user: Any) -> bool | Q:
        return True
