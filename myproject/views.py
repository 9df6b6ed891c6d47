"""The demo's own pages; the API, GraphiQL and the admin come from elsewhere."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

LIVE_SCRIPT = "myproject/live/live.js"


def live(request: HttpRequest) -> HttpResponse:
    """The latest published articles, kept live: a React app on ts_client's live
    QuerySet (myproject/frontend/, bundled by scripts/bootstrap)."""
    built = finders.find(LIVE_SCRIPT) is not None
    return render(request, "myproject/live.html", {"built": built, "script": LIVE_SCRIPT},
                  status=200 if built else 503)


def export_download(request: HttpRequest, name: str) -> FileResponse:
    """A finished export. Its name holds the run's random task id: the URL is the key,
    handed only to whoever may read the run (its starter or a view_taskrun holder)."""
    from myproject.tasks import EXPORTS

    folder = Path(settings.MEDIA_ROOT) / EXPORTS
    path = folder / name
    if path.parent != folder or not path.is_file():
        raise Http404("No such export.")
    return FileResponse(path.open("rb"), as_attachment=True, filename="articles.csv",
                        content_type="text/csv")


def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A legacy JSON endpoint, as projects have them: GET one article (published, or
    any with Django's view permission); POST ``{"title": ...}`` changes its title
    (change permission; CSRF unless a bearer token authenticated the request).
    The TypeScript client calls it as ``client.fetch(urls.article_detail({pk}))``."""
    import json

    from django.http import JsonResponse

    from myproject.models import Article

    user = request.user
    article = Article.objects.filter(pk=pk).first()
    if article is None or not (article.published or user.has_perm("myproject.view_article")):
        raise Http404("No such article.")
    if request.method == "POST":
        if not user.has_perm("myproject.change_article"):
            return JsonResponse({"error": "You may not change articles."}, status=403)
        try:
            title = json.loads(request.body or b"{}").get("title")
        except (ValueError, AttributeError):
            title = None
        if not isinstance(title, str) or not title.strip():
            return JsonResponse({"error": "title must be a non-empty string."}, status=400)
        article.title = title
        article.full_clean()
        article.save(update_fields=["title"])
    return JsonResponse({"id": article.pk, "title": article.title,
                         "published": article.published, "author": article.author.username,
                         "viewer": user.get_username() if user.is_authenticated else None})
