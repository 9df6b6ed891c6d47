"""A writer process for the fault tests: ``python -m tests.fault_writer N PREFIX [MODE]``.

Saves N published articles titled ``PREFIX-i``, one at a time, retrying each until
the database takes it (the tests restart the database under it). MODE ``atomic``
wraps each save in a transaction; ``autocommit`` is a plain ``save()``, as a shell
or a script runs it. Prints ``done`` at the end.
"""

from __future__ import annotations

import os
import sys
import time

import django


def main() -> None:
    count, prefix = int(sys.argv[1]), sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "autocommit"
    pause = float(os.environ.get("FAULT_WRITER_PAUSE", "0.005"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.db import DatabaseError, close_old_connections, transaction

    from myproject.models import Article, User

    def attempt(function):  # type: ignore[no-untyped-def]
        while True:
            try:
                return function()
            except DatabaseError:
                close_old_connections()
                time.sleep(0.05)

    author = attempt(lambda: User.objects.get_or_create(
        username=f"{prefix}-writer", defaults={"email": f"{prefix}@example.com"})[0])
    for index in range(count):
        article = Article(title=f"{prefix}-{index}", content="", author=author, published=True)

        def save(article: Article = article) -> None:
            if Article.objects.filter(title=article.title).exists():
                return  # committed, though the answer was lost with the connection
            article.pk = None
            if mode == "atomic":
                with transaction.atomic():
                    article.save()
            else:
                article.save()

        attempt(save)
        print(f"saved {index} {time.time():.6f}", flush=True)
        if pause:
            time.sleep(pause)
    print("done", flush=True)


if __name__ == "__main__":
    main()
