/** Scopes against the real server: ArticleQuerySet methods named in myproject/graphql.py. */
import { describe, expect, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { GraphQLRequestError } from '../../src/index.js';
import { clients, seeded } from './helpers.js';

const users = clients({ anonymous: 'anonymous', viewer: 'viewer' });

describe('scopes', () => {
  it('published() is the same rows as filter({published: true})', async () => {
    const scoped = await Article.objects.using(users.viewer).published().filter(seeded).order_by('id').values('id');
    const filtered = await Article.objects.using(users.viewer).filter({ ...seeded, published: true }).order_by('id').values('id');
    expect(scoped.length).toBeGreaterThan(0);
    expect(scoped).toEqual(filtered);
    expect(await Article.objects.using(users.viewer).filter(seeded).published().count()).toBe(filtered.length);
  });

  it('chains with arguments, in any order, and the row rules still apply', async () => {
    const author = (await User.objects.using(users.viewer).filter({ article__published: false }).order_by('id').first())!;
    const theirs = await Article.objects.using(users.viewer).filter(seeded).by_author({ user: author.id }).values('id', 'author_id');
    expect(theirs.length).toBeGreaterThan(0);
    expect(new Set(theirs.map((a) => a.author_id))).toEqual(new Set([author.id]));
    const long = await Article.objects.using(users.viewer).by_author({ user: author.id }).longer_than({ words: 20 })
      .filter(seeded).values('id', 'content');
    for (const row of long) expect(row.content.length).toBeGreaterThan(20 * 6);
    // Anonymous users read published articles only, whatever the scope says.
    const publicLong = await Article.objects.using(users.anonymous).longer_than({ words: 20 }).filter(seeded).values('id', 'published');
    expect(publicLong.every((a) => a.published)).toBe(true);
  });

  it('a scope that refuses its argument is a clear error; so is an argument the caller may not read', async () => {
    const refused = Article.objects.using(users.viewer).longer_than({ words: -1 }).count();
    await expect(refused).rejects.toBeInstanceOf(GraphQLRequestError);
    await expect(refused).rejects.toThrow(/Must be zero or more/);
    const user = (await User.objects.using(users.viewer).first())!;
    await expect(Article.objects.using(users.anonymous).by_author({ user: user.id }).count()).rejects.toThrow(/does not exist/);
  });
});
