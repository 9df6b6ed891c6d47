"""The demo's background work: plain Celery tasks, registered for the API in graphql.py."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from myproject.models import Article, User

#: Templates under myproject/templates/myproject/email/.
EMAIL_TEMPLATES = ("welcome", "digest")
EXPORTS = "exports"


@shared_task
def send_welcome_email(user_id: int, template: str = "welcome") -> dict[str, Any]:
    """Send a user one of the demo's emails (Django's email backend)."""
    if template not in EMAIL_TEMPLATES:
        raise ValueError(f"Unknown template {template!r}; use one of {', '.join(EMAIL_TEMPLATES)}.")
    user = User.objects.get(pk=user_id)
    try:
        body = render_to_string(f"myproject/email/{template}.txt", {"user": user})
    except TemplateDoesNotExist:
        raise ValueError(f"Template {template!r} is missing.") from None
    sent = send_mail(f"{template.title()} to the demo", body, None, [user.email])
    return {"to": user.email, "template": template, "sent": sent}


def export_path(task_id: str) -> Path:
    return Path(settings.MEDIA_ROOT) / EXPORTS / f"articles-{task_id}.csv"


@shared_task(bind=True)
def export_published_articles(self: Any, chunk: int = 50) -> dict[str, Any]:
    """Write every published article to a CSV file; the result is its download URL."""
    articles = Article.objects.filter(published=True).select_related("author").order_by("pk")
    total = articles.count()
    path = export_path(self.request.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    self.update_state(state="PROGRESS", meta={"current": 0, "total": total,
                                              "message": "Exporting"})
    done, last = 0, 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "author", "created_at"])
        # Keyset pages, each read whole: no cursor stays open across update_state's
        # write (on SQLite a write after an open read can fail at once as locked).
        while batch := list(articles.filter(pk__gt=last)[:chunk]):
            for article in batch:
                writer.writerow([article.pk, article.title, article.author.username,
                                 article.created_at.isoformat()])
            done, last = done + len(batch), batch[-1].pk
            self.update_state(state="PROGRESS", meta={
                "current": done, "total": total, "message": f"{done} of {total} articles"})
    return {"url": f"/exports/{path.name}", "rows": total}
