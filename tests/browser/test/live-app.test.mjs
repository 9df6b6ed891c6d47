// @ts-check
/**
 * /live/ as an application, in chromium, used as a person would: the articles
 * with their author and tags, the row that changed highlighted, logging in, an
 * edit refused by Django's validation then fixed, an edit made in the real admin
 * form appearing in the list and in the open form, and two browsers watching one
 * change. Each person has a browser of their own (cookies are per host, not per
 * port, so one profile would share one session between the page and the admin).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Comment } from 'django-graphql-realtime-client/generated';
import {
  ADMIN, adminEditArticle, adminLogin, clusterInfo, nodeClient, openBrowser, screenshot,
} from '../helpers.mjs';

const cluster = clusterInfo();
const pageOn = cluster.workers[0]?.url ?? '';
const otherWorker = cluster.workers[1]?.url ?? '';
const EDITOR = { username: 'editor', password: ADMIN.password };

/** @type {Awaited<ReturnType<typeof openBrowser>>} */
let reader;
/** @type {Awaited<ReturnType<typeof openBrowser>>} */
let admin;
/** @type {Awaited<ReturnType<typeof nodeClient>>} */
let api;

before(async () => {
  [reader, admin, api] = await Promise.all([openBrowser(), openBrowser(), nodeClient(otherWorker)]);
});
after(async () => {
  await Promise.all([reader?.close(), admin?.close(), api?.client.close()]);
});

/** @typedef {{ id: string, title: string, author: { username: string } | null, tags: { name: string }[] }} Listed */

/** The ten latest published articles as the API gives them to the admin. */
async function latest() {
  const data = /** @type {{ article_list: Listed[] }} */ (await api.client.request(`{
    article_list(filters: {published: {exact: true}}, ordering: [{created_at: DESC}, {id: DESC}], limit: 10) {
      id title author { username } tags { name }
    }
  }`));
  return data.article_list;
}

/** @param {import('playwright-core').Page} page */
async function openLive(page, base = pageOn) {
  await page.goto(`${base}/live/`);
  await page.locator('#status[data-status="ready"]').waitFor();
  await page.locator('#articles > li').nth(9).waitFor();
}

/** @param {import('playwright-core').Page} page @param {string} pk */
const row = (page, pk) => page.locator(`#articles > li[data-pk="${pk}"]`);

/** Log in through the page's own form. @param {import('playwright-core').Page} page */
async function logIn(page, /** @type {{ username: string, password: string }} */ account) {
  await page.fill('#login input[name=username]', account.username);
  await page.fill('#login input[name=password]', account.password);
  await page.click('#login button[type=submit]');
}

/** What the page shows for one row: title, author line and tags, as text. @param {import('playwright-core').Locator} item */
async function shown(item) {
  return {
    title: await item.locator('.title').textContent(),
    author: await item.locator('.author').textContent(),
    tags: await item.locator('.tag').allTextContents(),
  };
}

test('the rows show their author and tags, as Django\'s permissions allow', async () => {
  const page = await reader.context.newPage();
  await openLive(page);
  const expected = await latest();
  assert.deepEqual(await page.locator('#articles > li').evaluateAll((items) => items.map((li) => li.getAttribute('data-pk'))),
    expected.map((a) => a.id), 'the same rows, in the same order, as the API');
  // Anonymous: tags are public, authors need the view permission on users.
  const first = expected[0];
  assert.ok(first);
  await row(page, first.id).locator('.author').waitFor();
  assert.deepEqual(await shown(row(page, first.id)), {
    title: first.title, author: 'author hidden', tags: first.tags.map((t) => t.name).sort(),
  });
  assert.equal(await page.locator('#articles .edit').count(), 0, 'no Edit buttons for anonymous');

  // Logged in (session, through the page's form), the authors appear.
  await logIn(page, EDITOR);
  await page.locator('#who', { hasText: 'editor' }).waitFor();
  for (const article of expected) {
    await row(page, article.id).locator('.author', { hasText: `by ${article.author?.username}` }).waitFor();
    assert.deepEqual(await shown(row(page, article.id)), {
      title: article.title, author: `by ${article.author?.username}`, tags: article.tags.map((t) => t.name).sort(),
    });
  }
  assert.equal(await page.locator('#articles .edit').count(), 10, 'an editor may edit every row');

  // A tag added from another client (a many-to-many change) appears on its row.
  const tags = /** @type {{ tag_list: { id: string, name: string }[] }} */ (
    await api.client.request('{ tag_list(limit: 100) { id name } }')).tag_list;
  const extra = tags.find((tag) => !first.tags.some((t) => t.name === tag.name));
  assert.ok(extra, 'a tag the first article does not have');
  await api.articles.update(first.id, { tags: { add: [extra.id] } });
  await row(page, first.id).locator('.tag', { hasText: extra.name }).waitFor();
  assert.deepEqual(await row(page, first.id).locator('.tag').allTextContents(),
    [...first.tags.map((t) => t.name), extra.name].sort());
  await screenshot(page, 'live-app-authors-tags');
  assert.deepEqual(reader.external, [], 'the page needs nothing off this machine');
  await page.close();
});

test('log in: a wrong password is refused on the form, the right one logs in, log out logs out', async () => {
  await reader.context.clearCookies();
  const page = await reader.context.newPage();
  await openLive(page);
  await logIn(page, { username: 'editor', password: 'not-the-password' });
  await page.locator('#login .errornote', { hasText: 'Invalid username or password.' }).waitFor();
  assert.equal(await page.locator('#who').count(), 0);
  await logIn(page, EDITOR);
  await page.locator('#who', { hasText: 'Logged in as editor' }).waitFor();
  await page.locator('#articles .edit').first().waitFor();
  // The socket restarts as the new user (a socket's user is fixed when it connects) and is live again.
  await page.locator('#status[data-status="ready"]').waitFor();
  // The session is Django's: a reload keeps it.
  await page.reload();
  await page.locator('#who', { hasText: 'Logged in as editor' }).waitFor();
  await page.click('#logout');
  await page.locator('#login').waitFor();
  await page.locator('#articles .author', { hasText: 'author hidden' }).first().waitFor();
  assert.equal(await page.locator('#articles .edit').count(), 0);
  // A viewer (Django's view permissions only) sees the authors but may not edit.
  await logIn(page, { username: 'viewer', password: ADMIN.password });
  await page.locator('#who', { hasText: 'Logged in as viewer' }).waitFor();
  await page.locator('#articles .author', { hasText: 'by ' }).first().waitFor();
  assert.equal(await page.locator('#articles .edit').count(), 0, 'no Edit buttons without the change permission');
  await page.close();
});

test('edit in the form: Django\'s validation error is shown, nothing is saved, the fix is saved and appears', async () => {
  await reader.context.clearCookies();
  const page = await reader.context.newPage();
  await openLive(page);
  await logIn(page, EDITOR);
  const [target] = await latest();
  assert.ok(target);
  await row(page, target.id).locator('.edit').click();
  await page.locator('#editor #id_title').waitFor();
  assert.equal(await page.inputValue('#editor #id_title'), target.title);

  await page.fill('#editor #id_title', '');
  await page.click('#editor button[name=save]');
  await page.locator('#editor .invalid .errorlist', { hasText: 'This field cannot be blank.' }).waitFor();
  await screenshot(page, 'live-app-validation-error');
  const [stored] = await api.articles.filter({ id: target.id }).values('title');
  assert.equal(stored?.title, target.title, 'nothing was saved');

  const fixed = `Fixed in the form ${Date.now()}`;
  await page.fill('#editor #id_title', fixed);
  await page.click('#editor button[name=save]');
  await page.locator('#editor .saved', { hasText: 'Saved.' }).waitFor();
  assert.equal(await page.locator('#editor .errorlist').count(), 0, 'the error is gone');
  await row(page, target.id).locator('.title', { hasText: fixed }).waitFor();
  const [saved] = await api.articles.filter({ id: target.id }).values('title');
  assert.equal(saved?.title, fixed, 'the database has the fix');
  await screenshot(page, 'live-app-saved');
  await page.close();
});

test('an edit in the real admin form appears live: highlighted in the list, and in the open form', async () => {
  await reader.context.clearCookies();
  const page = await reader.context.newPage();
  await openLive(page);
  await logIn(page, EDITOR);
  const [, target] = await latest();
  assert.ok(target);
  await row(page, target.id).locator('.edit').click();
  await page.locator('#editor #id_title').waitFor();
  assert.equal(await row(page, target.id).getAttribute('data-changed'), null, 'not highlighted before the change');

  const adminPage = await admin.context.newPage();
  await adminLogin(adminPage, otherWorker);
  const title = `Edited in the admin ${Date.now()}`;
  await adminEditArticle(adminPage, otherWorker, target.id, { title });

  await page.locator(`#articles > li.changed[data-pk="${target.id}"][data-changed="UPDATED"]`).waitFor();
  assert.equal(await row(page, target.id).locator('.title').textContent(), title);
  assert.equal(await page.inputValue('#editor #id_title'), title, 'the untouched field shows the admin\'s title');
  assert.equal(await page.locator('#articles > li.changed').count(), 1, 'only the changed row is highlighted');
  await screenshot(page, 'live-app-admin-edit-highlighted');
  // The highlight is a moment, not a state.
  await page.locator(`#articles > li.changed[data-pk="${target.id}"]`).waitFor({ state: 'detached', timeout: 20_000 });
  await adminPage.close();
  await page.close();
});

test('an article\'s link opens it with its visible comments, live; the link works on its own', async () => {
  await reader.context.clearCookies();
  const page = await reader.context.newPage();
  await openLive(page);
  const [, , , target] = await latest();
  assert.ok(target);
  const data = /** @type {{ article: { content: string, author_id: string, comment_set: { id: string }[] } }} */ (
    await api.client.request(`query ($pk: ID!) {
      article(pk: $pk) { content author_id comment_set(filters: {status: {exact: visible}}) { id } }
    }`, { pk: target.id }));
  await row(page, target.id).locator('a.title').click();
  assert.equal(new URL(page.url()).hash, `#article-${target.id}`);
  await page.locator(`#reading[data-pk="${target.id}"] h2`, { hasText: target.title }).waitFor();
  assert.equal(await page.locator('#reading .content').textContent(), data.article.content);
  await page.locator('#reading .count', { hasText: String(data.article.comment_set.length) }).waitFor();
  assert.equal(await page.locator('#comments > li').count(), data.article.comment_set.length);

  // A comment made elsewhere appears; hidden by a moderator, it goes.
  const body = `A new comment ${Date.now()}`;
  const comments = Comment.objects.using(api.client);
  const comment = await comments.create({ body, article: target.id, author: data.article.author_id, status: 'visible' });
  await page.locator('#comments > li .body', { hasText: body }).waitFor();
  await page.locator('#reading .count', { hasText: String(data.article.comment_set.length + 1) }).waitFor();
  await screenshot(page, 'live-app-reading');
  await comments.update(comment.id, { status: 'hidden' });
  await page.locator(`#comments > li[data-pk="${comment.id}"]`).waitFor({ state: 'detached' });

  // The address alone opens the article (a link someone was sent).
  const linked = await reader.context.newPage();
  await linked.goto(`${pageOn}/live/#article-${target.id}`);
  await linked.locator(`#reading[data-pk="${target.id}"] h2`, { hasText: target.title }).waitFor();
  await linked.close();
  await page.close();
});

test('two browsers watching one change: both show it', async () => {
  const second = await openBrowser();
  try {
    const [one, two] = [await reader.context.newPage(), await second.context.newPage()];
    // On different workers: the change crosses the cluster to reach one of them.
    await Promise.all([openLive(one, pageOn), openLive(two, otherWorker)]);
    const [, , target] = await latest();
    assert.ok(target);
    const title = `Seen by two browsers ${Date.now()}`;
    const adminPage = await admin.context.newPage();
    await adminLogin(adminPage, otherWorker);
    await adminEditArticle(adminPage, otherWorker, target.id, { title });
    for (const page of [one, two]) {
      await page.locator(`#articles > li.changed[data-pk="${target.id}"] .title`, { hasText: title }).waitFor();
      await page.locator('#log li[data-op="UPDATED"]', { hasText: title }).waitFor();
    }
    await screenshot(one, 'live-app-two-browsers-1');
    await screenshot(two, 'live-app-two-browsers-2');
    assert.deepEqual(second.external, []);
    await adminPage.close();
  } finally {
    await second.close();
  }
});
