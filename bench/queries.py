"""The three queries of the issue, as each contender spells them.

Q1: one article by pk (3 scalars). Q2: 20 published articles with author, tags and
comment count. Q3: 1,000 flat rows. Every contender returns the same data; only
the spelling of arguments differs (strawberry-django's ``pagination`` input,
PostGraphile's inflected names).
"""

from __future__ import annotations

OURS = {
    "Q1": "{ article(pk: 1) { id title created_at } }",
    "Q2": ("{ article_list(limit: 20, filters: {published: {exact: true}}) "
           "{ id title author { id username } tags { id name } comment_set_count } }"),
    "Q3": "{ article_list(limit: 1000) { id title published created_at } }",
}

HANDWRITTEN = {
    "Q1": "{ article(pk: 1) { id title created_at } }",
    "Q2": ("{ article_list(pagination: {limit: 20}, filters: {published: {exact: true}}) "
           "{ id title author { id username } tags { id name } comment_set_count } }"),
    "Q3": "{ article_list(pagination: {limit: 1000}) { id title published created_at } }",
}

# PostGraphile 5 (amber preset) names: tables are myproject_article, users,
# myproject_tag_articles (the M2M table), myproject_comment; the ``id`` column is
# ``rowId`` because ``id`` is the global Node ID.
POSTGRAPHILE = {
    "Q1": "{ myprojectArticleByRowId(rowId: \"1\") { rowId title createdAt } }",
    "Q2": ("{ allMyprojectArticles(first: 20, condition: {published: true}, "
           "orderBy: [CREATED_AT_DESC, PRIMARY_KEY_ASC]) { nodes { rowId title "
           "userByAuthorId { rowId username } "
           "myprojectTagArticlesByArticleId { nodes { myprojectTagByTagId { rowId name } } } "
           "myprojectCommentsByArticleId { totalCount } } } }"),
    "Q3": ("{ allMyprojectArticles(first: 1000, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_ASC]) "
           "{ nodes { rowId title published createdAt } } }"),
}

NAMES = ("Q1", "Q2", "Q3")
