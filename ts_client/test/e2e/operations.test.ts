/**
 * Hand-written root fields (myproject/graphql.py: register_query / register_mutation)
 * as the generated typed functions, against the real server.
 */
import { describe, expect, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { operations } from '../../src/generated/operations.js';
import { GraphQLRequestError } from '../../src/index.js';
import { client, clients, unique } from './helpers.js';

const users = clients({ editor: 'editor', viewer: 'viewer' });

describe('hand-written operations', () => {
  it('a field typed as a derived model gives model instances, narrowed to what the caller may read', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const token = unique('hw');
    const draft = await Article.objects.using(users.editor).create({ title: `${token} draft`, content: 'words', author: author.id });
    const anonymous = client();
    try {
      const seen = await operations.trending_articles({ limit: 50 }, { client: anonymous });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((a) => a.published)).toBe(true);
      expect(seen.map((a) => a.id)).not.toContain(draft.id);
      expect(typeof seen[0]!.publish).toBe('function'); // an Article instance: its action is there
      expect((await operations.trending_articles(undefined, { client: anonymous })).length).toBeLessThanOrEqual(5);
    } finally {
      await anonymous.close();
    }
  });

  it('a mutation needs the Django permission, and returns instances', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const token = unique('hw');
    for (const n of [1, 2]) {
      await Article.objects.using(users.editor).create({ title: `${token} ${n}`, content: 'words', author: author.id });
    }
    const refused = operations.publish_drafts({ title_contains: token }, { client: users.viewer });
    await expect(refused).rejects.toBeInstanceOf(GraphQLRequestError);
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const published = await operations.publish_drafts({ title_contains: token }, { client: users.editor });
    expect(published.map((a) => [a.title, a.published])).toEqual([[`${token} 1`, true], [`${token} 2`, true]]);
    expect(await Article.objects.using(users.editor).filter({ title__contains: token, published: false }).count()).toBe(0);
  });

  it('another object type gives its scalar fields; bad input is a GraphQL error', async () => {
    const usage = await operations.tag_usage({}, { client: users.viewer });
    for (const tag of usage) {
      expect(Object.keys(tag).sort()).toEqual(['name', 'uses']);
      expect(typeof tag.uses).toBe('number');
    }
    const bad = operations.trending_articles({ limit: 500 }, { client: users.viewer });
    await expect(bad).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
