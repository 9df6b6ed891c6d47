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
