"""The demo's own pages; the API, GraphiQL and the admin come from elsewhere."""

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LIVE_SCRIPT = "myproject/live/live.js"


def live(request: HttpRequest) -> HttpResponse:
    """The latest published articles, kept live: a React app on ts_client's live
    QuerySet (myproject/frontend/, bundled by scripts/bootstrap)."""
    built = finders.find(LIVE_SCRIPT) is not None
    return render(request, "myproject/live.html", {"built": built, "script": LIVE_SCRIPT},
                  status=200 if built else 503)
