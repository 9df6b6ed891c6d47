"""(k) What invalidation costs per event at 1,000 cached answers.

An answer is judged against a change only when it is read again after that change
(``ResultCache.entry``): each change in between is tested against the answer's
footprint (``api_graphql.footprint``: the rows it contains, the fields it selected,
filters and orders by). This measures that judgment for every cached answer at once,
i.e. the cost of one event if all 1,000 answers are read after it, and how many of
them it drops.

In one process on the bench database: 1,000 cached answers (600 articles by pk, 300
pages of published articles with author, tags and comment count, 100 pages of drafts),
then three real writes through the ORM, read back from the outbox as the stream
carries them: a title changed (contained by the answers holding that row), a draft
published (it crosses the filters), and an article created. Each event is judged
against all 1,000 answers, 200 times; the figure is the median.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.lib.stats import median
from bench.scenarios import Context, target

TITLE = "(k) invalidation cost per event at 1,000 cached answers"
JUDGED = 200


def run(ctx: Context) -> dict[str, Any]:
    result = ctx.child("bench.scenarios.k_invalidation", "--rounds",
                       str(20 if ctx.quick else JUDGED))
    rows = [{"event": name, "cached answers": result["answers"],
             "µs per event (all answers judged)": m["median_us"],
             "µs per answer": m["median_us"] / result["answers"],
             "answers dropped": m["dropped"]}
            for name, m in result["events"].items()]
    worst = max(m["median_us"] for m in result["events"].values())
    targets = [target("(k) invalidation per event at 1,000 cached answers (µs)", worst,
                      "reported (issue 16 asks for the figure)", None,
                      "the costliest of the three events")]
    return {"samples": result, "rows": rows, "targets": targets}


# -- child process -----------------------------------------------------------------
def fill(executor: Any, built: Any) -> int:
    from django.contrib.auth.models import AnonymousUser

    from api_graphql.context import RequestContext
    from myproject.models import Article

    pks = list(Article.objects.order_by("pk").values_list("pk", flat=True)[:600])
    documents = [f"{{ article(pk: {pk}) {{ id title created_at }} }}" for pk in pks]
    documents += [f"{{ article_list(limit: 20, offset: {offset}, filters: {{published: "
                  f"{{exact: true}}}}) {{ id title author {{ id username }} tags {{ id name }} "
                  f"comment_set_count }} }}" for offset in range(300)]
    documents += [f"{{ article_list(limit: 10, offset: {offset}, filters: {{published: "
                  f"{{exact: false}}}}) {{ id title }} }}" for offset in range(100)]
    for document in documents:
        result = executor.execute(RequestContext(built, AnonymousUser(), None, "http"), document)
        assert "errors" not in result, result
    return len(documents)


def last_event(label: str) -> Any:
    from realtime.models import ChangeRecord
    from realtime.sequencer import to_event

    record = (ChangeRecord.objects.filter(model=label, seq__isnull=False)
              .order_by("-seq").first())
    assert record is not None
    return to_event(record)


def child(rounds: int) -> dict[str, Any]:
    import django

    django.setup()
    from api_graphql.execution import executor_for
    from api_graphql.schema import get_schema
    from myproject.models import Article, User

    built = get_schema()
    executor = executor_for(built)
    answers = fill(executor, built)
    entries = list(executor.results._entries.values())
    assert len(entries) == answers, (len(entries), answers)
    label = "myproject.article"
    first = Article.objects.order_by("pk").first()
    draft = Article.objects.filter(published=False).order_by("pk").first()
    assert first is not None and draft is not None
    title = first.title
    first.title = title + " (edited)"
    first.save(update_fields=["title"])
    events = {"title of a cached row changed": last_event(label)}
    draft.published = True
    draft.save(update_fields=["published"])
    events["a draft published"] = last_event(label)
    created = Article.objects.create(title="new", content="", published=True,
                                     author=User.objects.order_by("pk").first())
    events["an article created"] = last_event(label)
    # The bench's data as it was, for the scenarios after this one.
    created.delete()
    draft.published = False
    draft.save(update_fields=["published"])
    first.title = title
    first.save(update_fields=["title"])
    measured = {}
    for name, event in events.items():
        samples = []
        dropped = 0
        for _ in range(rounds):
            started = time.perf_counter_ns()
            dropped = sum(entry.footprint.affected_by(label, event, entry.rows)
                          for entry in entries)
            samples.append((time.perf_counter_ns() - started) / 1000)
        measured[name] = {"median_us": median(samples), "dropped": dropped}
    return {"answers": answers, "events": measured}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=JUDGED)
    print(json.dumps(child(parser.parse_args().rounds)))
