"""Plain Django JSON views answering Q1, Q2 and Q3 with the same data as GraphQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, JsonResponse

from myproject.models import Article, Tag


def q1_data(pk: int = 1) -> dict[str, Any]:
    """One article by pk: one query."""
    row = Article.objects.filter(pk=pk).values("id", "title", "created_at").first()
    return {"data": {"article": row}}


def q2_data(limit: int = 20) -> dict[str, Any]:
    """Published articles with author, tags and comment count: two queries."""
    articles = list(
        Article.objects.filter(published=True)
        .order_by("-created_at", "pk")
        .values("id", "title", "author_id", "author__username")
        .annotate(comment_set_count=Count("comment"))[:limit]
    )
    tags: dict[int, list[dict[str, Any]]] = defaultdict(list)
    through = Tag.articles.through.objects.filter(article_id__in=[a["id"] for a in articles])
    for row in through.order_by("tag_id").values("article_id", "tag_id", "tag__name"):
        tags[row["article_id"]].append({"id": row["tag_id"], "name": row["tag__name"]})
    return {"data": {"article_list": [
        {
            "id": a["id"],
            "title": a["title"],
            "author": {"id": a["author_id"], "username": a["author__username"]},
            "tags": tags[a["id"]],
            "comment_set_count": a["comment_set_count"],
        }
        for a in articles
    ]}}


def q3_data(limit: int = 1000) -> dict[str, Any]:
    """1,000 flat rows: one query."""
    rows = list(
        Article.objects.order_by("-created_at", "pk")
        .values("id", "title", "published", "created_at")[:limit]
    )
    return {"data": {"article_list": rows}}


def q1_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(q1_data())


def q2_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(q2_data())


def q3_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(q3_data())
