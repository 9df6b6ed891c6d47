"""Plain Django JSON views answering Q1, Q2 and Q3 with the same data as GraphQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, JsonResponse

from myproject.models import Article, Comment, Tag


def q1_data(pk: int = 1) -> dict[str, Any]:
    """One article by pk: one query."""
    row = Article.objects.filter(pk=pk).values("id", "title", "created_at").first()
    return {"data": {"article": row}}


def q2_data(limit: int = 20) -> dict[str, Any]:
    """Published articles with author, tags and comment count: three queries.

    The count is a separate grouped query over the page's ids, not
    ``annotate(Count("comment"))``: on PostgreSQL that annotation groups every
    published article before the LIMIT (about 6 ms here instead of under 1 ms), and a
    careful developer who measured would not keep it.
    """
    articles = list(
        Article.objects.filter(published=True)
        .order_by("-created_at", "pk")
        .values("id", "title", "author_id", "author__username")[:limit]
    )
    ids = [a["id"] for a in articles]
    counts = dict(
        Comment.objects.filter(article_id__in=ids).order_by()
        .values("article_id").annotate(n=Count("id")).values_list("article_id", "n")
    )
    tags: dict[int, list[dict[str, Any]]] = defaultdict(list)
    through = Tag.articles.through.objects.filter(article_id__in=ids)
    for row in through.order_by("tag_id").values("article_id", "tag_id", "tag__name"):
        tags[row["article_id"]].append({"id": row["tag_id"], "name": row["tag__name"]})
    return {"data": {"article_list": [
        {
            "id": a["id"],
            "title": a["title"],
            "author": {"id": a["author_id"], "username": a["author__username"]},
            "tags": tags[a["id"]],
            "comment_set_count": counts.get(a["id"], 0),
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
