/** aggregate() against the real server, checked against the rows the same user reads. */
import { describe, expect, inject, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { Avg, Count, GraphQLRequestError, Max, Min, Sum } from '../../src/index.js';
import { createGateway } from '../../examples/api-gateway.js';
import { clients, pythonSession, seeded } from './helpers.js';

const users = clients({ anonymous: 'anonymous', viewer: 'viewer' });
const py = pythonSession(`from django.db.models import Avg, Count, Max
from django.db.models.functions import Length
from myproject.models import Article`);

interface DjangoGroup { author_id: number; published: boolean; n: number; avg: number | null; latest: string }

/** What Django's ORM groups for the same rows: values(...).annotate(...), ordered by the keys. */
function djangoGroups(onlyPublished: boolean): Promise<DjangoGroup[]> {
  const rule = onlyPublished ? ', published=True' : '';
  return py.run<DjangoGroup[]>(`result = [
  {**g, "latest": g["latest"].isoformat()} for g in Article.objects
  .filter(id__lte=${inject('lastSeededArticle')}, title__contains="a"${rule})
  .values("author_id", "published").annotate(n=Count("id"), avg=Avg(Length("title")), latest=Max("created_at"))
  .order_by("author_id", "published")]`);
}

describe('aggregate()', () => {
  it('equals what the rows say, over scopes and filters, for each user', async () => {
    for (const who of [users.anonymous, users.viewer]) {
      const qs = Article.objects.using(who).published().filter({ ...seeded, title_length__gte: 5 });
      const rows = await qs.values('id', 'title_length', 'author_id', 'created_at');
      const stats = await qs.aggregate({
        n: Count(), authors: Count('author_id', { distinct: true }), total: Sum('title_length'),
        avg: Avg('title_length'), shortest: Min('title_length'), latest: Max('created_at'),
      });
      const lengths = rows.map((r) => r.title_length ?? 0);
      expect(rows.length).toBeGreaterThan(0);
      expect(stats.n).toBe(rows.length);
      expect(stats.authors).toBe(new Set(rows.map((r) => r.author_id)).size);
      expect(stats.total).toBe(lengths.reduce((a, b) => a + b, 0));
      expect(stats.avg).toBeCloseTo(lengths.reduce((a, b) => a + b, 0) / rows.length, 6);
      expect(stats.shortest).toBe(Math.min(...lengths));
      expect(Date.parse(stats.latest!)).toBe(Math.max(...rows.map((r) => Date.parse(r.created_at))));
    }
  });

  it('counts only what the user may read, and refuses a model the user may not read', async () => {
    const publicCount = (await Article.objects.using(users.anonymous).filter(seeded).aggregate({ n: Count() })).n;
    const viewerCount = (await Article.objects.using(users.viewer).filter(seeded).aggregate({ n: Count() })).n;
    expect(publicCount).toBe(await Article.objects.using(users.viewer).filter({ ...seeded, published: true }).count());
    expect(viewerCount).toBeGreaterThan(publicCount);
    await expect(User.objects.using(users.anonymous).aggregate({ n: Count() })).rejects.toBeInstanceOf(GraphQLRequestError);
  });
});

describe('values(...).annotate(...)', () => {
  it('groups as the ORM does, after the row rules, for each user', async () => {
    for (const [who, onlyPublished] of [[users.anonymous, true], [users.viewer, false]] as const) {
      const groups = await Article.objects.using(who).filter({ ...seeded, title__contains: 'a' })
        .values('author_id', 'published')
        .annotate({ n: Count(), avg: Avg('title_length'), latest: Max('created_at') });
      const want = await djangoGroups(onlyPublished);
      expect(want.length).toBeGreaterThan(1);
      expect(groups.map((g) => ({ ...g, latest: Date.parse(g.latest!) }))).toEqual(want.map((g) => ({
        author_id: String(g.author_id), published: g.published, n: g.n,
        avg: expect.closeTo(g.avg!, 6), latest: Date.parse(g.latest),
      })));
    }
  });

  it('pages the groups with limit() and offset(), and scopes apply', async () => {
    const qs = Article.objects.using(users.viewer).filter(seeded).values('author_id');
    const all = await qs.annotate({ n: Count() });
    expect(all.length).toBeGreaterThan(2);
    expect(await qs.annotate({ n: Count() }).offset(1).limit(2)).toEqual(all.slice(1, 3));
    const published = await Article.objects.using(users.viewer).published().filter(seeded).values('author_id')
      .annotate({ n: Count() });
    const counted = await Article.objects.using(users.viewer).filter({ ...seeded, published: true }).count();
    expect(published.reduce((sum, g) => sum + g.n, 0)).toBe(counted);
  });

  it('refuses a model the user may not read, and a call without values()', async () => {
    await expect(User.objects.using(users.anonymous).values('is_active').annotate({ n: Count() }))
      .rejects.toBeInstanceOf(GraphQLRequestError);
    // @ts-expect-error annotate() groups values(): instances do not group
    expect(() => Article.objects.using(users.viewer).all().annotate({ n: Count() })).toThrow(TypeError);
  });
});

describe('the gateway dashboard', () => {
  it('GET /api/articles/stats answers the aggregates of published articles', async () => {
    const server = createGateway(users.anonymous).listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const body = await (await fetch(`http://127.0.0.1:${port}/api/articles/stats`)).json() as Record<string, unknown>;
      expect(body.articles).toBe(await Article.objects.using(users.anonymous).count());
      expect(typeof body.average_title).toBe('number');
    } finally {
      server.close();
    }
  });
});
