/** Login, logout, tokens, and create/update/delete with typed validation errors. */
import { describe, expect, it } from 'vitest';
import { Article, Tag, User } from '../../src/generated/models.js';
import {
  DoesNotExist, GraphQLRequestError, ValidationError, authenticate, logout, me, refreshToken, tokenAuth,
} from '../../src/index.js';
import { PASSWORD, client, clients, unique } from './helpers.js';

describe('session auth (cookies + CSRF, as a browser would)', () => {
  it('authenticate, write with the CSRF token, logout', async () => {
    const c = client();
    expect(await me(c)).toBeNull();
    const user = await authenticate({ username: 'editor', password: PASSWORD }, c);
    expect(user.username).toBe('editor');
    expect(user.permissions).toContain('myproject.add_article');
    expect((await me(c))?.username).toBe('editor');
    const author = (await User.objects.using(c).first())!;
    const title = unique('session');
    const created = await Article.objects.using(c).create({ title, content: 'c', author: author.id });
    expect(created.title).toBe(title);
    expect(await logout(c)).toBe(true);
    expect(await me(c)).toBeNull();
    const refused = await Article.objects.using(c).create({ title, content: 'c', author: author.id })
      .then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(GraphQLRequestError);
    expect((refused as GraphQLRequestError).code).toBe('FORBIDDEN');
    await c.close();
  });

  it('a wrong password is refused without saying why', async () => {
    const c = client();
    const error = await authenticate({ username: 'editor', password: 'wrong' }, c).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect((error as Error).message).toBe('Invalid username or password.');
    expect(await me(c)).toBeNull();
  });
});

describe('token auth', () => {
  it('tokenAuth, me, refreshToken, logout', async () => {
    const c = client();
    const result = await tokenAuth({ username: 'viewer', password: PASSWORD }, c);
    expect(result.user.username).toBe('viewer');
    expect(result.expires_at).toBeGreaterThan(Date.now() / 1000);
    expect(c.getToken()).toBe(result.token);
    expect((await me(c))?.username).toBe('viewer');
    const refreshed = await refreshToken(c);
    expect(refreshed.expires_at).toBeGreaterThanOrEqual(result.expires_at);
    expect(c.getToken()).toBe(refreshed.token);
    expect((await me(c))?.username).toBe('viewer');
    await logout(c);
    expect(c.getToken()).toBeNull();
    expect(await me(c)).toBeNull();
  });

  it('a forged token is rejected with 401', async () => {
    const c = client({ token: 'forged' });
    const error = await me(c).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLRequestError);
    expect((error as GraphQLRequestError).status).toBe(401);
  });
});

describe('writes', () => {
  const users = clients({ editor: 'editor', viewer: 'viewer' });

  it('create, update, delete', async () => {
    const articles = Article.objects.using(users.editor);
    const author = (await User.objects.using(users.editor).first())!;
    const tag = (await Tag.objects.using(users.editor).first())!;
    const title = unique('write');
    const created = await articles.create({ title, content: 'body', author: author.id, tags: [tag.id] });
    expect(created).toMatchObject({ title, content: 'body', author_id: author.id, published: false });
    expect((await created.tags.all()).map((t) => t.id)).toEqual([tag.id]);
    const updated = await articles.update(created.id, { published: true, content: 'changed' });
    expect(updated).toMatchObject({ id: created.id, title, published: true, content: 'changed' });
    expect((await articles.get({ pk: created.id })).content).toBe('changed');
    const deleted = await articles.delete(created.id);
    expect(deleted.title).toBe(title);
    await expect(articles.get({ pk: created.id })).rejects.toBeInstanceOf(DoesNotExist);
    await expect(articles.update(created.id, { title: 'x' })).rejects.toBeInstanceOf(DoesNotExist);
    await expect(articles.delete(created.id)).rejects.toBeInstanceOf(DoesNotExist);
  });

  it('validation errors are typed by field', async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const error = await Article.objects.using(users.editor)
      .create({ title: '', content: 'c', author: author.id })
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const fields = (error as ValidationError<'title' | 'content' | 'author'>).fields;
    expect(fields.title?.[0]).toMatch(/blank/);
    expect((error as ValidationError).errors[0]).toMatchObject({ field: 'title', code: 'blank' });
    const long = await Article.objects.using(users.editor)
      .create({ title: 'x'.repeat(201), content: 'c', author: author.id })
      .then(() => null, (e: unknown) => e);
    expect((long as ValidationError).fields.title?.[0]).toMatch(/at most 200/);
  });

  it('a reader may not write', async () => {
    const author = (await User.objects.using(users.viewer).first())!;
    const error = await Article.objects.using(users.viewer).create({ title: 't', content: 'c', author: author.id })
      .then(() => null, (e: unknown) => e);
    expect((error as GraphQLRequestError).code).toBe('FORBIDDEN');
  });

  it('relation managers write: reverse foreign key create, many-to-many add/remove/set', async () => {
    const user = (await User.objects.using(users.editor).first())!;
    const title = unique('related');
    const article = await user.article_set.create({ title, content: 'c' });
    expect(article.author_id).toBe(user.id);
    expect(await user.article_set.filter({ title }).count()).toBe(1);
    const [a, b] = await Tag.objects.using(users.editor).order_by('name').limit(2);
    await article.tags.add(a!.id, b!.id);
    expect((await article.tags.all()).map((t) => t.id).sort()).toEqual([a!.id, b!.id].sort());
    await article.tags.remove(a!.id);
    expect((await article.tags.all()).map((t) => t.id)).toEqual([b!.id]);
    await article.tags.set([]);
    expect(await article.tags.exists()).toBe(false);
    await Article.objects.using(users.editor).delete(article.id);
  });
});
