/** Computed fields against the real server: the demo's ArticleConfig (myproject/graphql.py). */
import { describe, expect, it } from 'vitest';
import { Article } from '../../src/generated/models.js';
import { GraphQLRequestError } from '../../src/index.js';
import { clients, seeded } from './helpers.js';

const users = clients({ anonymous: 'anonymous', viewer: 'viewer' });

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

describe('computed fields', () => {
  it('rows carry properties and annotations, typed from Python', async () => {
    const rows = await Article.objects.using(users.viewer).filter(seeded).limit(30);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.reading_time).toBe(Math.max(1, Math.ceil(words(row.content).length / 200)));
      expect(row.title_length).toBe([...row.title].length);
      expect(Array.isArray(row.tag_names)).toBe(true);
    }
    const withTags = await Article.objects.using(users.viewer).filter({ ...seeded, tags__isnull: false }).first();
    if (withTags) {
      const tags = (await withTags.tags.all()).map((t) => t.name).sort();
      expect(withTags.tag_names).toEqual(tags);
    }
  });

  it('annotations filter and order like columns (SQL on the server)', async () => {
    const rows = await Article.objects.using(users.viewer).filter({ ...seeded, title_length__gte: 10 })
      .order_by('-title_length', 'id').limit(20);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.title_length).toBeGreaterThanOrEqual(10);
    const lengths = rows.map((r) => r.title_length ?? 0);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    const short = await Article.objects.using(users.viewer).filter({ ...seeded, title_length__lt: 10 }).count();
    const all = await Article.objects.using(users.viewer).filter(seeded).count();
    expect(short + (await Article.objects.using(users.viewer).filter({ ...seeded, title_length__gte: 10 }).count())).toBe(all);
  });

  it('a method runs on the server with typed arguments; its ValidationError is a clear error', async () => {
    const row = (await Article.objects.using(users.anonymous).filter(seeded).first())!;
    expect(await row.summary({ words: 2 })).toBe(words(row.content).slice(0, 2).join(' '));
    expect(await row.summary()).toBe(words(row.content).slice(0, 30).join(' '));
    const refused = row.summary({ words: 0 });
    await expect(refused).rejects.toBeInstanceOf(GraphQLRequestError);
    await expect(refused).rejects.toThrow(/at least one word/);
  });

  it('values() narrows to the computed fields asked for', async () => {
    const rows = await Article.objects.using(users.anonymous).filter(seeded).values('id', 'reading_time').limit(5);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['id', 'reading_time']);
  });
});
