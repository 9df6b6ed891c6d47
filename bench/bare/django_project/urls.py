"""One view that answers Q1's data with one SQL query, like our first answer does."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path


def q1(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, title, created_at FROM myproject_article WHERE id = 1")
        row = cursor.fetchone()
    return JsonResponse({"data": {"article": {"id": row[0], "title": row[1],
                                              "created_at": row[2]}}})


urlpatterns = [path("q1", q1)]
