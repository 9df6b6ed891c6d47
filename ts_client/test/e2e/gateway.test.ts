/** The gateway example, run in-process against the real server. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGateway } from '../../examples/api-gateway.js';
import { Article, User } from '../../src/generated/models.js';
import type { Client } from '../../src/index.js';
import { clientAs, unique, until } from './helpers.js';
import { djangoShell } from './server.js';

let client: Client;
let server: Server;
let base: string;
beforeAll(async () => {
  client = await clientAs('viewer');
  server = createGateway(client);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await client.close();
});

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(base + path);
  return { status: response.status, body: await response.json() };
}

it('/api/users lists, filters and pages users', async () => {
  const { status, body } = await get('/api/users?limit=5&offset=2');
  expect(status).toBe(200);
  const expected = await User.objects.using(client).values('id', 'username', 'email', 'is_active', 'created_at')
    .order_by('username').offset(2).limit(5);
  expect(body.results).toEqual(expected);
  expect(body.count).toBe(await User.objects.using(client).count());
  const inactive = await get('/api/users?active=false&limit=100');
  expect(inactive.body.results.length).toBeGreaterThan(0);
  expect(inactive.body.results.every((u: { is_active: boolean }) => !u.is_active)).toBe(true);
  expect(inactive.body.count).toBe(await User.objects.using(client).filter({ is_active: false }).count());
});

it('/api/users/:id includes the article count from the relation manager', async () => {
  // The last users: other test files write articles for the first ones.
  const user = (await User.objects.using(client).filter({ article__published: true }).order_by('-id').first())!;
  const { status, body } = await get(`/api/users/${user.id}`);
  expect(status).toBe(200);
  expect(body.username).toBe(user.username);
  expect(body.articles).toBe(await Article.objects.using(client).filter({ author: user.id }).count());
  expect(body.articles).toBeGreaterThan(0);
  expect((await get('/api/users/99999999')).status).toBe(404);
});

it('/api/articles searches published articles', async () => {
  const { body } = await get('/api/articles?search=django&limit=3');
  expect(body.results.length).toBeGreaterThan(0);
  expect(body.results.length).toBeLessThanOrEqual(3);
  for (const a of body.results) {
    expect(a.published).toBe(true);
    expect(a.title.toLowerCase()).toContain('django');
  }
  expect(body.count).toBe(await Article.objects.using(client).filter({ published: true, title__icontains: 'django' }).count());
  const one = await get(`/api/articles/${body.results[0].id}`);
  expect(one.body.title).toBe(body.results[0].title);
  expect(one.body.tags).toHaveLength(3);
  expect((await get('/api/articles/99999999')).status).toBe(404);
  expect((await get('/api/nothing')).status).toBe(404);
  expect((await get('/api/articles/not-a-number')).status).toBe(400);
});

it('/api/articles/changes streams live changes as Server-Sent Events', async () => {
  const title = unique('sse');
  const controller = new AbortController();
  const response = await fetch(`${base}/api/articles/changes`, { signal: controller.signal });
  const reader = response.body!.getReader();
  let text = '';
  const read = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += new TextDecoder().decode(value);
    }
  })().catch(() => undefined);
  await until(() => text.includes('event: READY'), 20_000, 'READY');
  await djangoShell(`from myproject.models import Article, User
Article.objects.create(title="${title}", content="c", author=User.objects.first(), published=True)`);
  await until(() => text.includes(title), 20_000, 'the created article');
  expect(text).toMatch(new RegExp(`event: CREATED\\ndata: .*"title":"${title}"`));
  controller.abort();
  await read;
});

it('/api/legacy/articles/:id calls the legacy Django view with the gateway\'s token', async () => {
  const article = (await Article.objects.using(client).filter({ published: false }).first())!;
  const { status, body } = await get(`/api/legacy/articles/${article.id}`);
  // The viewer may view unpublished articles: the view answers as that user.
  expect(status).toBe(200);
  expect(body).toMatchObject({ id: Number(article.id), title: article.title, published: false, viewer: 'viewer' });
  expect((await get('/api/legacy/articles/99999999')).status).toBe(404);
  expect((await get('/api/legacy/articles/x')).status).toBe(400);
});
