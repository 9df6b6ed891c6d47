/** aggregate() against the real server, checked against the rows the same user reads. */
import { describe, expect, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { Avg, Count, GraphQLRequestError, Max, Min, Sum } from '../../src/index.js';
import { createGateway } from '../../examples/api-gateway.js';
import { clients, seeded } from './helpers.js';

const users = clients({ anonymous: 'anonymous', viewer: 'viewer' });

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
