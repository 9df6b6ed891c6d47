/** Every read API against the real server: anonymous and with Django permissions. */
import { describe, expect, it } from 'vitest';
import { Article, Tag, User } from '../../src/generated/models.js';
import { DoesNotExist, GraphQLRequestError, MultipleObjectsReturned } from '../../src/index.js';
import { client, clients, seeded } from './helpers.js';

// Tests that count rows stay on the seeded articles, and on the last users, which nobody writes.
const users = clients({ anonymous: 'anonymous', viewer: 'viewer' });

describe('anonymous reads follow the demo rules', () => {
  it('sees only published articles', async () => {
    const total = await Article.objects.using(users.viewer).filter(seeded).count();
    const published = await Article.objects.using(users.viewer).filter({ ...seeded, published: true }).count();
    expect(published).toBeGreaterThan(0);
    expect(published).toBeLessThan(total);
    expect(await Article.objects.using(users.anonymous).filter(seeded).count()).toBe(published);
    const rows = await Article.objects.using(users.anonymous).all().limit(50);
    expect(rows.length).toBe(50);
    expect(rows.every((a) => a.published)).toBe(true);
  });

  it('may not read users (no view_user permission)', async () => {
    await expect(User.objects.using(users.anonymous).count()).rejects.toBeInstanceOf(GraphQLRequestError);
  });
});

describe('QuerySet', () => {
  it('filter with Django lookups', async () => {
    const articles = Article.objects.using(users.viewer);
    const matching = await articles.filter({ title__icontains: 'django', created_at__year__gte: 2020 }).limit(20);
    expect(matching.length).toBeGreaterThan(0);
    for (const a of matching) expect(a.title.toLowerCase()).toContain('django');
    const ids = matching.slice(0, 3).map((a) => a.id);
    const byIds = await articles.filter({ id__in: ids }).order_by('id');
    expect(byIds.map((a) => a.id)).toEqual([...ids].sort((x, y) => Number(x) - Number(y)));
    const none = await articles.filter({ created_at__year__lt: 2000 }).count();
    expect(none).toBe(0);
  });

  it('filter across a relation (author__username) and exclude', async () => {
    const author = (await User.objects.using(users.viewer).filter({ article__published: true }).order_by('-id').first())!;
    const theirs = await Article.objects.using(users.viewer).filter({ author__username: author.username });
    expect(theirs.length).toBeGreaterThan(0);
    expect(new Set(theirs.map((a) => a.author_id))).toEqual(new Set([author.id]));
    const others = await Article.objects.using(users.viewer).filter(seeded).exclude({ author__username: author.username }).count();
    expect(others + theirs.length).toBe(await Article.objects.using(users.viewer).filter(seeded).count());
  });

  it('order_by, limit, offset', async () => {
    const qs = Article.objects.using(users.viewer).filter(seeded).order_by('-created_at', 'title');
    const five = await qs.limit(5);
    expect(five).toHaveLength(5);
    const stamps = five.map((a) => a.created_at);
    expect([...stamps].sort().reverse()).toEqual(stamps);
    const middle = await qs.offset(2).limit(3);
    expect(middle.map((a) => a.id)).toEqual(five.slice(2).map((a) => a.id));
    const byAuthor = await Article.objects.using(users.viewer).order_by('author__username', 'id').limit(30);
    const names = await Promise.all(byAuthor.map(async (a) => (await User.objects.using(users.viewer).get({ pk: a.author_id })).username));
    expect([...names].sort()).toEqual(names);
  });

  it('get, DoesNotExist, MultipleObjectsReturned', async () => {
    const articles = Article.objects.using(users.viewer);
    const first = (await articles.first())!;
    const again = await articles.get({ id: first.id });
    expect(again.title).toBe(first.title);
    await expect(articles.get({ id: 99_999_999 })).rejects.toBeInstanceOf(DoesNotExist);
    await expect(articles.get({ published: true })).rejects.toBeInstanceOf(MultipleObjectsReturned);
  });

  it('first, count, exists', async () => {
    const articles = Article.objects.using(users.viewer);
    expect(await articles.filter({ title: 'no such title, surely' }).first()).toBeNull();
    expect(await articles.filter({ title: 'no such title, surely' }).exists()).toBe(false);
    expect(await articles.filter({ published: true }).exists()).toBe(true);
    const count = await articles.filter(seeded).count();
    expect(count).toBe(300);
    expect(await articles.filter(seeded).offset(count - 2).count()).toBe(2);
    expect(await articles.all().limit(7).count()).toBe(7);
  });

  it('an unsliced queryset returns every row, paging under the server limit', async () => {
    const small = client({ pageSize: 64, token: users.viewer.getToken() });
    const all = await Article.objects.using(small).filter(seeded);
    expect(all.length).toBe(300);
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
  });

  it('values() returns only the named columns', async () => {
    const rows = await Article.objects.using(users.viewer).values('id', 'title').limit(3);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['id', 'title']);
  });

  it('querysets are immutable and thenable', async () => {
    const base = Article.objects.using(users.viewer).filter({ published: true });
    const narrowed = base.filter({ title__icontains: 'a' });
    const [all, some] = await Promise.all([base.count(), narrowed.count()]);
    expect(some).toBeLessThanOrEqual(all);
    expect(await base.count()).toBe(all);
    const rows = await base.limit(2);
    expect(rows).toHaveLength(2);
  });

  it('relation managers: user.article_set and article.tags match the nested GraphQL fields', async () => {
    const user = (await User.objects.using(users.viewer).filter({ article__published: true }).order_by('-id').first())!;
    const mine = await user.article_set.all().order_by('id');
    const nested = await users.viewer.request<{ user: { article_set: { id: string }[] } }>(
      'query ($pk: ID!) { user(pk: $pk) { article_set(ordering: [{id: ASC}]) { id } } }', { pk: user.id });
    expect(mine.map((a) => a.id)).toEqual(nested.user.article_set.map((a) => a.id));
    expect(await user.article_set.count()).toBe(mine.length);
    expect(await user.article_set.filter({ published: true }).count()).toBeLessThanOrEqual(mine.length);
    const article = mine[0]!;
    const tags = await article.tags.all();
    const nestedTags = await users.viewer.request<{ article: { tags: { id: string }[] } }>(
      'query ($pk: ID!) { article(pk: $pk) { tags { id } } }', { pk: article.id });
    expect(tags.map((t) => t.id).sort()).toEqual(nestedTags.article.tags.map((t) => t.id).sort());
    expect(tags.length).toBe(3); // the seed gives every article three tags
    const back = await tags[0]!.articles.filter({ id: article.id }).exists();
    expect(back).toBe(true);
    expect(JSON.stringify(article)).not.toContain('tags'); // managers are not data
  });

  it('toGraphQL() gives a document any GraphQL client can run', async () => {
    const qs = Tag.objects.using(users.viewer).filter({ name__startswith: 'd' }).order_by('name');
    const { query, variables } = qs.toGraphQL();
    const response = await fetch(users.viewer.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: { tag_list: { name: string }[] } };
    expect(body.data.tag_list.map((t) => t.name)).toEqual((await qs).map((t) => t.name));
    expect(body.data.tag_list.length).toBeGreaterThan(0);
  });

  it('server refusals surface as GraphQLRequestError with the code', async () => {
    // (A limit above the server's page is paged, as Django's qs[:5000] gives 5000 rows.)
    const error = await Article.objects.using(users.viewer).all().offset(-1).limit(5).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect((error as GraphQLRequestError).message).toMatch(/offset must not be negative/i);
  });
});
