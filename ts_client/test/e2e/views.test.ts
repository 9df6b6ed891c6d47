/** Django views from TypeScript: typed URL functions from the URLconf, and
 * client.fetch with the bearer token or the session + CSRF token the client holds. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Article, User } from '../../src/generated/models.js';
import { urls } from '../../src/generated/urls.js';
import { client, clients, unique } from './helpers.js';

describe('Django views', () => {
  const users = clients({ editor: 'editor', session: 'editor (session)' });
  let draft: { id: string; title: string };
  beforeAll(async () => {
    const author = (await User.objects.using(users.editor).first())!;
    const created = await Article.objects.using(users.editor).create({ title: unique('view'), content: 'c', author: author.id });
    draft = { id: created.id, title: created.title };
  });
  afterAll(async () => {
    await Article.objects.using(users.editor).delete(draft.id);
  });

  it('urls.<name>() builds the path Django reverses, with the converters checked', () => {
    expect(urls.article_detail({ pk: 12 })).toBe('/articles/12/');
    expect(urls.live()).toBe('/live/');
    expect(urls.api_graphql.graphql()).toBe('/graphql');
    expect(urls['export-download']({ name: 'a b.csv' })).toBe('/exports/a%20b.csv');
    // @ts-expect-error pk is an <int:pk>: a string is a type error
    expect(() => urls.article_detail({ pk: '12' })).toThrow(TypeError);
    expect(() => urls.article_detail({ pk: -1 })).toThrow(TypeError);
    expect(() => urls['export-download']({ name: 'a/b' })).toThrow(TypeError);
  });

  it('client.fetch carries the bearer token (no CSRF needed)', async () => {
    const got = await users.editor.fetch(urls.article_detail({ pk: Number(draft.id) }));
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id: Number(draft.id), title: draft.title, viewer: 'editor' });
    const title = unique('renamed');
    const posted = await users.editor.fetch(urls.article_detail({ pk: Number(draft.id) }), {
      method: 'POST', body: JSON.stringify({ title }), headers: { 'Content-Type': 'application/json' },
    });
    expect(posted.status).toBe(200);
    expect((await Article.objects.using(users.editor).get({ pk: draft.id })).title).toBe(title);
    draft.title = title;
  });

  it('client.fetch carries the session and the CSRF token on a POST', async () => {
    const title = unique('session');
    const posted = await users.session.fetch(urls.article_detail({ pk: Number(draft.id) }), {
      method: 'POST', body: JSON.stringify({ title }), headers: { 'Content-Type': 'application/json' },
    });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ title, viewer: 'editor' });
    draft.title = title;
  });

  it('without credentials Django decides as it always did', async () => {
    const anonymous = client();
    expect((await anonymous.fetch(urls.article_detail({ pk: Number(draft.id) }))).status).toBe(404);
    const forged = client({ token: 'forged' });
    expect((await forged.fetch(urls.article_detail({ pk: Number(draft.id) }))).status).toBe(401);
  });
});
