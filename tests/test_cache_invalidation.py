"""Per-event invalidation: random writes against cached queries; every answer the
cache gives equals a fresh computation, and most answers survive writes that cannot
touch them."""

from __future__ import annotations

import datetime
import random
import threading
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from api_graphql.context import RequestContext
from api_graphql.execution import Executor, executor_for
from api_graphql.schema import get_schema
from myproject.models import Article, Comment, Tag, User
from realtime import publish_changes

pytestmark = pytest.mark.django_db(transaction=True)

QUERIES = [
    # the benchmark's Q2
    "{ article_list(limit: 5, filters: {published: {exact: true}}) "
    "{ id title author { id username } tags { id name } comment_set_count } }",
    "{ article_list(ordering: [{title: ASC}], offset: 2, limit: 4) { id title } }",
    '{ article_list(filters: {title: {icontains: "a"}}) { title published } }',
    "{ article_list(ordering: [{author: {username: DESC}}, {id: ASC}], limit: 6) { title } }",
    "{ article(pk: 3) { title content author { username } } }",
    "{ article(pk: 14) { title } }",  # created during the run
    "{ article_count(filters: {published: {exact: true}}) }",
    "{ user_list(ordering: [{id: ASC}]) { username article_set(limit: 2) { title } "
    "article_set_count } }",
    "{ tag_list { name articles(filters: {published: {exact: true}}) { id } } }",
    "{ article_connection(first: 3) { edges { node { title } } "
    "page_info { has_next_page } total_count } }",
    "{ comment_list(filters: {article: {published: {exact: true}}}) { body } }",
    "{ user(pk: 2) { username comment_set { body status } } }",
]
WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "omega", "sigma", "zeta"]


def seed_data(rng: random.Random) -> None:
    users = [User.objects.create(email=f"u{i}@example.com", username=rng.choice(WORDS) + str(i))
             for i in range(4)]
    tags = [Tag.objects.create(name=f"tag{i}") for i in range(4)]
    now = timezone.now()
    for i in range(12):
        article = Article.objects.create(
            title=f"{rng.choice(WORDS)} {i}", content="c", author=rng.choice(users),
            published=rng.random() < 0.6)
        Article.objects.filter(pk=article.pk).update(
            created_at=now - datetime.timedelta(minutes=rng.randrange(1000)))
        article.tags.set(rng.sample(tags, rng.randrange(3)))
        for _ in range(rng.randrange(3)):
            Comment.objects.create(article=article, author=rng.choice(users),
                                   body=rng.choice(WORDS))


def random_write(rng: random.Random) -> str:
    articles = list(Article.objects.order_by("pk"))
    users = list(User.objects.order_by("pk"))
    article, user = rng.choice(articles), rng.choice(users)
    kind = rng.choice([
        "title", "title", "title", "content", "published", "author", "created_at", "create",
        "delete", "tag", "untag", "comment", "uncomment", "comment_status", "username",
        "email", "bypass",
    ])
    if kind == "title":
        article.title = f"{rng.choice(WORDS)} {rng.randrange(100)}"
        article.save()
    elif kind == "content":
        article.content = rng.choice(WORDS)
        article.save()
    elif kind == "published":
        article.published = not article.published
        article.save()
    elif kind == "author":
        article.author = user
        article.save()
    elif kind == "created_at":
        article.created_at = timezone.now() - datetime.timedelta(minutes=rng.randrange(1000))
        article.save()
    elif kind == "create":
        Article.objects.create(title=f"{rng.choice(WORDS)} new", content="c", author=user,
                               published=rng.random() < 0.5)
    elif kind == "delete" and len(articles) > 6:
        article.delete()
    elif kind == "tag":
        article.tags.add(rng.choice(list(Tag.objects.all())))
    elif kind == "untag":
        tags = list(article.tags.all())
        if tags:
            article.tags.remove(rng.choice(tags))
    elif kind == "comment":
        Comment.objects.create(article=article, author=user, body=rng.choice(WORDS))
    elif kind == "uncomment":
        comment = Comment.objects.order_by("?").first()
        if comment is not None:
            comment.delete()
    elif kind == "comment_status":
        comment = Comment.objects.order_by("?").first()
        if comment is not None:
            comment.status = rng.choice(["pending", "visible", "hidden"])
            comment.save()
    elif kind == "username":
        user.username = rng.choice(WORDS) + str(rng.randrange(10))
        user.save()
    elif kind == "email":
        user.email = f"{rng.randrange(10**6)}@example.com"
        user.save()
    elif kind == "bypass":  # no signal (the trigger records it) and an event without fields
        Article.objects.filter(pk=article.pk).update(title=f"bypass {rng.randrange(100)}")
        publish_changes(Article, [article.pk])
    return kind


@pytest.mark.parametrize("seed", [1, 2])
def test_every_cached_answer_equals_a_fresh_one(seed: int, make_user: Any) -> None:
    rng = random.Random(seed)
    seed_data(rng)
    built = get_schema()
    cache = executor_for(built)
    readers = [RequestContext(built, make_user("root", superuser=True)),
               RequestContext(built, AnonymousUser())]

    def compare() -> None:
        for query in QUERIES:
            for context in readers:
                fresh = Executor(built).execute(context, query)
                assert context is not readers[0] or "errors" not in fresh, (query, fresh)
                assert cache.execute(context, query) == fresh, (query, writes[-3:])

    writes: list[str] = []
    compare()
    for _ in range(40):
        writes.append(random_write(rng))
        compare()
    # The cache did its job: most answers outlived writes that could not change them.
    assert cache.results.revalidated > 0
    assert cache.results.hits > cache.results.misses


def test_an_update_elsewhere_keeps_the_answer_and_costs_no_recomputation(
        make_user: Any) -> None:
    seed_data(random.Random(3))
    built = get_schema()
    executor = executor_for(built)
    context = RequestContext(built, make_user("root", superuser=True))
    query = "{ article_list(limit: 3, ordering: [{id: ASC}]) { title } }"
    first = executor.execute(context, query)
    outside = Article.objects.order_by("-pk").first()
    assert outside is not None
    outside.title = "changed outside the page"
    outside.save()
    misses = executor.results.misses
    assert executor.execute(context, query) == first
    assert executor.results.misses == misses and executor.results.revalidated == 1
    inside = Article.objects.order_by("pk").first()
    assert inside is not None
    inside.content = "a field the query does not select"
    inside.save()
    assert executor.execute(context, query) == first
    assert executor.results.revalidated == 2
    inside.title = "changed inside the page"
    inside.save()
    assert executor.execute(context, query)["data"]["article_list"][0] == {
        "title": "changed inside the page"}
    assert executor.results.misses == misses + 1


def test_concurrent_misses_compute_once(make_user: Any) -> None:
    """Single flight: the requests waiting on one computation get its answer."""
    from django.db import connections

    seed_data(random.Random(4))
    built = get_schema()
    executor = executor_for(built)
    root = make_user("root", superuser=True)
    query = "{ article_list { title author { username } } }"
    gate = threading.Event()
    original = executor._run_fields
    runs: list[int] = []

    def slow_run(*args: Any) -> Any:
        runs.append(1)
        gate.wait(10)  # hold the computation until every request is waiting on it
        return original(*args)

    executor._run_fields = slow_run  # type: ignore[method-assign]
    answers: list[Any] = []

    def request() -> None:
        try:
            answers.append(executor.execute(RequestContext(built, root), query))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = threading.Event()
    for _ in range(200):  # until the others wait on the first one's flight
        if runs and executor.results.coalesced == 3:
            break
        deadline.wait(0.05)
    gate.set()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 4 and all(a == answers[0] for a in answers)
    assert "errors" not in answers[0]
    assert len(runs) == 1 and executor.results.coalesced == 3
