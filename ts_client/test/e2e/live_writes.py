"""The writes of live-queryset.test.ts, made through the ORM in a Django process of
their own, as a worker, the admin or a shell would make them.

One ``Run`` is one case of the property: its articles are titled with the run's
prefix (so no other test's rows are in its query) and it owns a tag named after
the prefix, so a many-to-many change can move a row into or out of a filter. Each
write picks its article by index (``n`` modulo the articles there are), so a case
the test generated replays the same way whatever happened before it. A change is
committed when the call returns (autocommit, or an atomic block for the writes
that come in one transaction).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models.functions import Length

from myproject.models import Article, Tag, User

#: Titles whose order is the database's collation: case and accents differ from code points.
WORDS = ["apple", "Banana", "banana", "cherry", "Date", "date", "éclair", "fig", "Fig"]
#: Dates a write sets: a few minutes, so rows tie on them and the pk decides.
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
#: Leading character of a title moved out of the run's prefix (and back).
OUT = "~"


class Run:
    def __init__(self, prefix: str, sentinel: dict[str, bool]) -> None:
        self.prefix = prefix
        self.tag = Tag.objects.create(name=prefix)
        self.authors = list(User.objects.order_by("id")[:3])
        self.pks: list[int] = []
        # The last row of the run, written only by touch(): it matches the test's
        # filter (published and tagged as the test says), and an event about it
        # tells the test that every earlier change of the run has been delivered.
        sentinel_row = self._create(f"{prefix} zz sentinel", sentinel["published"], 0)
        if sentinel["tagged"]:
            sentinel_row.tags.add(self.tag)
        self.sentinel = sentinel_row.pk
        self.touches = 0

    def _create(self, title: str, published: bool, author: int) -> Article:
        return Article.objects.create(title=title, content="c", published=published,
                                      author=self.authors[author % len(self.authors)])

    def _pick(self, n: int) -> Article | None:
        if not self.pks:
            return None
        return Article.objects.get(pk=self.pks[n % len(self.pks)])

    def apply(self, op: str, n: int, v: int) -> int | None:
        """One write; the pk it created, if any."""
        if op == "create":
            with transaction.atomic():  # the row and its tag commit together
                article = self._create(f"{self.prefix} {WORDS[v % len(WORDS)]}", n % 2 == 0, n)
                if n % 3 == 0:
                    article.tags.add(self.tag)
            self.pks.append(article.pk)
            return article.pk
        if op == "bulk":
            # QuerySet.update: one UPDATE statement, no save(), no signals.
            chosen = self.pks[v % 3 :: 2]
            Article.objects.filter(pk__in=chosen).update(published=n % 2 == 0)
            return None
        article = self._pick(n)
        if article is None:
            return None
        if op == "retitle":
            out = article.title.startswith(OUT)
            article.title = f"{OUT if out else ''}{self.prefix} {WORDS[v % len(WORDS)]}"
            article.save()
        elif op == "out":
            # Out of the prefix filter, or back into it.
            article.title = article.title[1:] if article.title.startswith(OUT) else OUT + article.title
            article.save(update_fields=["title"])
        elif op == "publish":
            article.published = not article.published
            article.save(update_fields=["published"] if v % 2 else None)
        elif op == "redate":
            article.created_at = BASE + dt.timedelta(minutes=v % 4)
            article.save(update_fields=["created_at"])
        elif op == "reauthor":
            article.author = self.authors[v % len(self.authors)]
            article.save(update_fields=["author"])
        elif op == "tag":
            # Either side of the many-to-many, add and remove, or clear.
            tagged = article.tags.filter(pk=self.tag.pk).exists()
            if tagged and v % 3 == 2:
                article.tags.clear()
            elif tagged:
                (article.tags.remove(self.tag) if v % 2 else self.tag.articles.remove(article))
            else:
                (article.tags.add(self.tag) if v % 2 else self.tag.articles.add(article))
        elif op == "delete":
            self.pks.remove(article.pk)
            article.delete()
        else:
            raise ValueError(f"unknown write {op!r}")
        return None

    def touch(self) -> None:
        """A change of the sentinel that moves it nowhere (content is not ordered by)."""
        self.touches += 1
        Article.objects.filter(pk=self.sentinel).update(content=f"touch {self.touches}")

    def window(self, filters: dict[str, Any], then: dict[str, Any], excludes: dict[str, Any],
               ordering: list[str], offset: int, limit: int | None) -> list[str]:
        """The query's pks as the ORM answers it (the model's ordering when none is given)."""
        # title_length is the annotation myproject/graphql.py exposes.
        rows = Article.objects.annotate(title_length=Length("title")).filter(**filters)
        if then:
            rows = rows.filter(**then)
        if excludes:
            rows = rows.exclude(**excludes)
        keys = ordering or list(Article._meta.ordering)
        end = None if limit is None else offset + limit
        return [str(pk) for pk in rows.order_by(*keys, "pk").values_list("pk", flat=True)[offset:end]]
