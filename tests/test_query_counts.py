"""SQL queries of the business-logic reads do not grow with the rows (no N+1).

An aggregate, a grouping, scopes and computed fields (a property, a property walking
a relation with its prefetch hint, a method with an argument, an annotation) are each
asked over 10 and then 100 articles, by a superuser and by an anonymous user (whose
row rule, ``published=True``, applies on top); Django's ``CaptureQueriesContext``
counts the SQL of each request, less what an empty request costs (the session and
user lookups). The counts must be the same at both sizes. The figures are printed
at the end of the module (``pytest -s``) for docs/PERFORMANCE.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from myproject.models import Article, Tag, User
from tests.conftest import GraphQLClient

pytestmark = pytest.mark.django_db

SIZES = (10, 100)

READS = {
    "aggregate": """{ article_aggregate { count sum { title_length } avg { title_length }
        max { created_at } count_distinct { author_id } } }""",
    "group_by": """{ article_group_by(by: [author_id, published]) {
        key { author_id published } count avg { title_length } } }""",
    "scope": """{ article_list(scopes: [{published: true}, {longer_than: {words: 3}}],
        limit: 100) { id title }
        article_count(scopes: [{published: true}, {longer_than: {words: 3}}]) }""",
    "computed": """{ article_list(limit: 100) {
        id reading_time tag_names summary(words: 3) title_length } }""",
}

#: (read, role) -> {rows: queries}, filled by the test and printed at the end.
COUNTS: dict[tuple[str, str], dict[int, int]] = {}


def add_articles(upto: int) -> None:
    """Articles up to ``upto`` rows: three authors, tags on three in four, one in
    three published, contents of growing length."""
    authors = [User.objects.get_or_create(email=f"{n}@example.com", username=n)[0]
               for n in ("ada", "bob", "cy")]
    tags = [Tag.objects.get_or_create(name=f"tag{i}")[0] for i in range(3)]
    for i in range(Article.objects.count(), upto):
        article = Article.objects.create(
            title="t" * (1 + i % 17), content=" ".join(["word"] * (i * 7)),
            author=authors[i % 3], published=i % 3 == 0)
        article.tags.set(tags[: i % 4])


def queries(client: GraphQLClient, query: str) -> int:
    with CaptureQueriesContext(connection) as baseline:
        client("{ __typename }")
    with CaptureQueriesContext(connection) as captured:
        result = client(query)
    assert "errors" not in result, result
    return len(captured.captured_queries) - len(baseline.captured_queries)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    if COUNTS:
        lines = [f"{read:10} {role:10} " + "  ".join(f"{n} rows: {c}" for n, c in sizes.items())
                 for (read, role), sizes in sorted(COUNTS.items())]
        print("\nSQL queries per request (less an empty request's):\n" + "\n".join(lines))


@pytest.mark.parametrize("role", ["superuser", "anonymous"])
@pytest.mark.parametrize("read", list(READS))
def test_queries_do_not_grow_with_the_rows(read: str, role: str, gql: GraphQLClient,
                                           gql_as: Any, make_user: Any) -> None:
    client = gql_as(make_user("root", superuser=True)) if role == "superuser" else gql
    counts = {}
    for size in SIZES:
        add_articles(size)
        counts[size] = queries(client, READS[read])
    COUNTS[(read, role)] = counts
    assert counts[SIZES[0]] == counts[SIZES[-1]], counts
    # And the answer covers the rows: 100 articles are really read at the larger size.
    visible = Article.objects.count() if role == "superuser" else Article.objects.filter(
        published=True).count()
    assert client("{ article_count }")["data"]["article_count"] == visible
