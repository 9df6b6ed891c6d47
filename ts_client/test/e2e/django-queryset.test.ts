/**
 * The Django-exact QuerySet against the real server, each answer compared with the
 * ORM asked directly (a Django shell in another process): related query names,
 * `__isnull` on relations, Q with OR/AND/NOT, exclude, values() spans, distinct,
 * in_bulk, latest/earliest, select_related / prefetch_related in one request,
 * get_or_create under a race.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Article, Comment, Tag, User } from '../../src/generated/models.js';
import { DoesNotExist, LookupError, type Client } from '../../src/index.js';
import { clientAs, clients, unique } from './helpers.js';
import { djangoShell } from './server.js';

/**
 * Other files write concurrently: questions stay on rows nobody else writes (the
 * seeded articles after the first, users past the first 20), so the ORM's answer,
 * asked once up front, still holds when the client asks.
 */
const users = clients({ viewer: 'viewer', admin: 'admin' });
const last = Number(inject('lastSeededArticle'));
const seeded = `id__lte=${last}`;

/** The ORM's answer: a Python expression over the demo models, printed as JSON. */
async function orm(expression: string): Promise<unknown> {
  const code = [
    'import json',
    'from django.db.models import Q',
    'from myproject.models import Article, Comment, Profile, Tag, User',
    `print("ORM " + json.dumps(${expression}, default=str))`,
  ].join('\n');
  const out = await djangoShell(code);
  const line = out.split('\n').find((l) => l.startsWith('ORM '));
  if (!line) throw new Error(`no ORM answer in: ${out}`);
  return JSON.parse(line.slice(4));
}

/** Requests a client sends, counted by wrapping its fetch. */
function counted(c: Client): { requests: () => number } {
  let n = 0;
  const original = (c as unknown as { fetchImpl: typeof fetch }).fetchImpl;
  (c as unknown as { fetchImpl: typeof fetch }).fetchImpl = (...args) => {
    n += 1;
    return original(...args);
  };
  return { requests: () => n };
}

/** The ORM's answers to the static questions, asked in one shell (a Django start costs seconds). */
const QUESTIONS = (): Record<string, string> => ({
  hiddenCommented: `list(Article.objects.filter(${seeded}, comment__status="hidden", comment__body__icontains="a").order_by("id").distinct().values_list("id", flat=True))`,
  djangoAuthors: 'list(User.objects.filter(id__gt=20, article__title__icontains="django").order_by("id").distinct().values_list("id", flat=True))',
  noArticles: 'list(User.objects.filter(id__gt=20, article__isnull=True).order_by("id").values_list("id", flat=True))',
  withProfile: 'User.objects.filter(id__gt=20, profile__isnull=False).count()',
  untagged: `list(Article.objects.filter(${seeded}, tags__isnull=True).order_by("id").values_list("id", flat=True))`,
  uncommented: `Article.objects.filter(${seeded}, comment__isnull=True).count()`,
  q: `list(Article.objects.filter((Q(title__icontains="django") | Q(author__username__startswith="a")) & ~Q(published=False), ${seeded}).order_by("id").values_list("id", flat=True))`,
  excludeHidden: `Article.objects.filter(${seeded}).exclude(comment__status="hidden").count()`,
  excludeQ: `Article.objects.filter(${seeded}).exclude(Q(published=True) | Q(tags__name="django")).count()`,
  commentValues: `[{"id": str(r["id"]), "article": str(r["article"]), "author__username": r["author__username"], "article__author__username": r["article__author__username"]} for r in Comment.objects.filter(article__id__lte=${last}).order_by("id").values("id", "article", "author__username", "article__author__username")[:25]]`,
  distinctAuthors: `list(Article.objects.filter(id__lte=${last}).order_by("author__username").values("author__username").distinct())`,
  bulkTags: 'sorted(Tag.objects.filter(name__in=["django", "python"]).values_list("name", flat=True))',
  latest: `Article.objects.filter(${'id__lte=' + last}).latest("created_at", "id").id`,
  earliest: `Article.objects.filter(${'id__lte=' + last}).earliest("created_at", "id").id`,
  // Two filter() calls: each may match another tag (or comment); one call: the same one.
  // The API never repeats a row (Django would, once per pair of comments): distinct().
  chainedTags: `list(Article.objects.filter(${seeded}, tags__name="django").filter(tags__name="graphql").order_by("id").values_list("id", flat=True))`,
  oneCallTags: `list(Article.objects.filter(Q(tags__name="django") & Q(tags__name="graphql"), ${seeded}).values_list("id", flat=True))`,
  chainedComments: `list(Article.objects.filter(${seeded}, comment__status="hidden").filter(comment__status="visible").distinct().order_by("id").values_list("id", flat=True))`,
  tagManager: `list(Tag.objects.get(name="django").articles.filter(${seeded}, tags__name="graphql").order_by("id").values_list("id", flat=True))`,
  // Meta.ordering is -created_at: first() is the newest, last() the oldest.
  firstUnordered: `Article.objects.filter(${'id__lte=' + last}).first().id`,
  lastUnordered: `Article.objects.filter(${'id__lte=' + last}).last().id`,
  lastByTitle: `Article.objects.filter(${'id__lte=' + last}).order_by("title", "id").last().id`,
  selectRelated: `[[c.id, c.author.username, c.article.title, c.article.author.username] for c in Comment.objects.filter(article__id__lte=${last}).order_by("id").select_related("article__author", "author")[:30]]`,
  prefetched: `[[a.id, a.author.username, sorted(t.name for t in a.tags.all()), sorted([c.id, c.author.username] for c in a.comment_set.all())] for a in Article.objects.filter(id__gte=2, id__lte=40).order_by("id").select_related("author").prefetch_related("tags", "comment_set__author")]`,
});
let answers: Record<string, unknown> = {};
const answer = (name: string): unknown => answers[name];

const ids = (rows: { id: string }[]) => rows.map((r) => Number(r.id));

beforeAll(async () => {
  const questions = Object.entries(QUESTIONS()).map(([name, expression]) => `${JSON.stringify(name)}: ${expression}`);
  answers = (await orm(`{${questions.join(', ')}}`)) as Record<string, unknown>;
});

describe('lookups spelled as Django spells them', () => {
  
  it('reverse relations by their related query name (comment__..., article__...)', async () => {
    const mine = await Article.objects.using(users.viewer)
      .filter({ id__lte: last, comment__status: 'hidden', comment__body__icontains: 'a' }).order_by('id');
    expect(mine.length).toBeGreaterThan(0);
    expect(ids(mine)).toEqual(answer('hiddenCommented'));
    const authors = await User.objects.using(users.viewer).filter({ id__gt: 20, article__title__icontains: 'django' }).order_by('id');
    expect(ids(authors)).toEqual(answer('djangoAuthors'));
  });

  it('chained filter() calls each may match another related row; one call, the same row', async () => {
    const articles = Article.objects.using(users.viewer);
    const chained = await articles.filter({ id__lte: last, tags__name: 'django' }).filter({ tags__name: 'graphql' }).order_by('id');
    expect(chained.length).toBeGreaterThan(0);
    expect(ids(chained)).toEqual(answer('chainedTags'));
    const oneCall = await articles.filter(Article.Q({ tags__name: 'django' }).and({ tags__name: 'graphql' }), { id__lte: last });
    expect(ids(oneCall)).toEqual(answer('oneCallTags'));
    expect(answer('oneCallTags')).toEqual([]);
    const comments = await articles.filter({ id__lte: last, comment__status: 'hidden' }).filter({ comment__status: 'visible' }).order_by('id');
    expect(comments.length).toBeGreaterThan(0);
    expect(ids(comments)).toEqual(answer('chainedComments'));
    // A relation manager's own filter and the next call are one (Django's sticky filter).
    const django = (await Tag.objects.using(users.viewer).get({ name: 'django' }));
    const managed = await django.articles.filter({ id__lte: last, tags__name: 'graphql' }).order_by('id');
    expect(ids(managed)).toEqual(answer('tagManager'));
  });

  it('the accessor name is not a lookup, at run time either', () => {
    expect(() => User.objects.filter({ article_set__published: true } as never)).toThrow(LookupError);
    expect(() => User.objects.filter({ article_set__published: true } as never)).toThrow(/name it 'article'/);
  });

  it('__isnull on forward, reverse, one-to-one and many-to-many relations', async () => {
    const noArticles = await User.objects.using(users.viewer).filter({ id__gt: 20, article__isnull: true }).order_by('id');
    expect(ids(noArticles)).toEqual(answer('noArticles'));
    const withProfile = await User.objects.using(users.viewer).filter({ id__gt: 20, profile__isnull: false }).count();
    expect(withProfile).toBe(answer('withProfile'));
    const untagged = await Article.objects.using(users.viewer).filter({ id__lte: last, tags__isnull: true }).order_by('id');
    expect(ids(untagged)).toEqual(answer('untagged'));
    const uncommented = await Article.objects.using(users.viewer).filter({ id__lte: last, comment__isnull: true }).count();
    expect(uncommented).toBe(answer('uncommented'));
  });

  it('Q objects: OR, AND, NOT, mixed with keywords', async () => {
    const q = Article.Q({ title__icontains: 'django' }).or({ author__username__startswith: 'a' })
      .and(Article.Q({ published: false }).not());
    const rows = await Article.objects.using(users.viewer).filter(q, { id__lte: last }).order_by('id');
    expect(rows.length).toBeGreaterThan(0);
    expect(ids(rows)).toEqual(answer('q'));
  });

  it('exclude across a to-many relation drops every row with a match, as Django does', async () => {
    const n = await Article.objects.using(users.viewer).filter({ id__lte: last }).exclude({ comment__status: 'hidden' }).count();
    expect(n).toBe(answer('excludeHidden'));
    const either = Article.Q({ published: true }).or({ tags__name: 'django' });
    const m = await Article.objects.using(users.viewer).filter({ id__lte: last }).exclude(either).count();
    expect(m).toBe(answer('excludeQ'));
  });
});

describe('values(), distinct(), in_bulk(), latest(), earliest()', () => {
  it('values() follows to-one relations and names keys as Django does', async () => {
    const rows = await Comment.objects.using(users.viewer).filter({ article__id__lte: last }).order_by('id')
      .values('id', 'article', 'author__username', 'article__author__username').limit(25);
    const expected = answer('commentValues');
    expect(rows).toEqual(expected);
  });

  it('values().distinct() removes repeated dicts, sliced after', async () => {
    const names = await Article.objects.using(users.viewer).filter({ id__lte: last })
      .order_by('author__username').values('author__username').distinct();
    const expected = answer('distinctAuthors');
    expect(names).toEqual(expected);
    expect(names.length).toBeLessThan(last);
    const page = await Article.objects.using(users.viewer).filter({ id__lte: last })
      .order_by('author__username').values('author__username').distinct().offset(3).limit(5);
    expect(page).toEqual((expected as unknown[]).slice(3, 8));
  });

  it('in_bulk by pk and by another unique field', async () => {
    const bulk = await Article.objects.using(users.viewer).in_bulk([1, 2, 3, 99_999_999]);
    expect(Object.keys(bulk).sort()).toEqual(['1', '2', '3']);
    expect(bulk['2']!.id).toBe('2');
    expect(await Article.objects.using(users.viewer).in_bulk([])).toEqual({});
    const tags = await Tag.objects.using(users.viewer).in_bulk(['django', 'python'], { field_name: 'name' });
    expect(Object.keys(tags).sort()).toEqual(
      (answer('bulkTags')) as string[]);
    await expect(async () => Article.objects.using(users.viewer).all().limit(2).in_bulk()).rejects.toThrow(/limit/);
  });

  it('latest() and earliest() by a field; no field and no get_latest_by is an error', async () => {
    const newest = await Article.objects.using(users.viewer).filter({ id__lte: last }).latest('created_at', 'id');
    const oldest = await Article.objects.using(users.viewer).filter({ id__lte: last }).earliest('created_at', 'id');
    expect(Number(newest.id)).toBe(answer('latest'));
    expect(Number(oldest.id)).toBe(answer('earliest'));
    await expect(Article.objects.using(users.viewer).filter({ id__lt: 0 }).latest('created_at')).rejects.toBeInstanceOf(DoesNotExist);
    await expect(Article.objects.using(users.viewer).latest()).rejects.toThrow(/get_latest_by/);
  });

  it('first() and last() of an unordered queryset follow Meta.ordering, as in Django', async () => {
    const articles = Article.objects.using(users.viewer).filter({ id__lte: last });
    expect(Number((await articles.first())!.id)).toBe(answer('firstUnordered'));
    expect(Number((await articles.last())!.id)).toBe(answer('lastUnordered'));
    expect(Number((await articles.order_by('title', 'id').last())!.id)).toBe(answer('lastByTitle'));
  });
});

describe('select_related and prefetch_related: relations in the same request', () => {
  it('article.author (and comment.article.author) is an instance, fetched with the rows', async () => {
    const c = await clientAs('viewer');
    const requests = counted(c);
    const before = requests.requests();
    const comments = await Comment.objects.using(c).filter({ article__id__lte: last }).order_by('id')
      .select_related('article__author', 'author').limit(30);
    expect(requests.requests() - before).toBe(1);
    const expected = answer('selectRelated');
    expect(comments.map((x) => [Number(x.id), x.author?.username, x.article?.title, x.article?.author?.username]))
      .toEqual(expected);
    // The row stays data: JSON carries the nested objects as the server sent them.
    const json = JSON.parse(JSON.stringify(comments[0]));
    expect(json.article.author.username).toBe(comments[0]!.article!.author!.username);
    // A related instance has its own relation managers.
    const theirs = await comments[0]!.article!.author!.article_set.filter({ id: comments[0]!.article_id }).count();
    expect(theirs).toBe(1);
    await c.close();
  });

  it('select_related refuses a to-many relation at run time', () => {
    expect(() => (Article.objects.select_related as (p: string) => unknown)('tags')).toThrow(/prefetch_related/);
  });

  it('prefetch_related: tags and comments with their authors in one request, all() asks nothing more', async () => {
    const c = await clientAs('viewer');
    const requests = counted(c);
    const before = requests.requests();
    const articles = await Article.objects.using(c).filter({ id__gte: 2, id__lte: 40 }).order_by('id')
      .select_related('author').prefetch_related('tags', 'comment_set__author');
    expect(requests.requests() - before).toBe(1);
    const expected = answer('prefetched');
    const got = articles.map((a) => [
      Number(a.id), a.author?.username, a.tags.cached.map((t) => t.name).sort(),
      a.comment_set.cached.map((x) => [Number(x.id), x.author?.username]).sort((p, q) => Number(p[0]) - Number(q[0])),
    ]);
    expect(got).toEqual(expected);
    const fromCache = await articles[0]!.comment_set.all();
    expect(fromCache.map((x) => x.id)).toEqual(articles[0]!.comment_set.cached.map((x) => x.id));
    expect(requests.requests() - before).toBe(1);
    // A further filter asks the server, as Django's prefetch cache does.
    const visible = await articles[0]!.comment_set.filter({ status: 'visible' });
    expect(requests.requests() - before).toBe(2);
    expect(visible.every((x) => x.status === 'visible')).toBe(true);
    expect(JSON.parse(JSON.stringify(articles[0])).tags.length).toBe(articles[0]!.tags.cached.length);
    await c.close();
  });

  it('a relation with more rows than one nested page is read to the end', async () => {
    const author = (await User.objects.using(users.viewer).order_by('id').first())!;
    const article = await Article.objects.using(users.admin).create({ title: unique('many-comments'), content: 'c', author: author.id });
    await djangoShell([
      'from myproject.models import Comment',
      `Comment.objects.bulk_create(Comment(article_id=${article.id}, author_id=${author.id}, body=f"c{i}") for i in range(130))`,
    ].join('\n'));
    const [row] = await Article.objects.using(users.admin).filter({ id: article.id }).prefetch_related('comment_set');
    expect(row!.comment_set.cached).toHaveLength(130);
    expect(new Set(row!.comment_set.cached.map((x) => x.body)).size).toBe(130);
  });
});

describe('get_or_create (the server-side mutation)', () => {
  it('creates once, then gets; racing clients all end with the one row', async () => {
    const name = unique('tag').slice(0, 50);
    const [tag, created] = await Tag.objects.using(users.admin).get_or_create({ name });
    expect(created).toBe(true);
    const [again, createdAgain] = await Tag.objects.using(users.admin).get_or_create({ name });
    expect([again.id, createdAgain]).toEqual([tag.id, false]);

    const raced = unique('race').slice(0, 50);
    const results = await Promise.all(Array.from({ length: 5 }, () => Tag.objects.using(users.admin).get_or_create({ name: raced })));
    expect(new Set(results.map(([t]) => t.id)).size).toBe(1);
    expect(results.filter(([, c]) => c)).toHaveLength(1);
    expect(await orm(`Tag.objects.filter(name="${raced}").count()`)).toBe(1);
  });
});
