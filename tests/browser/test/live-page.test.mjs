// @ts-check
/**
 * /live/: the TypeScript page built from ts_client, in chromium. It follows
 * changes made in the admin (on the other worker) and by a Node client, then
 * survives its socket being dropped: its worker is stopped (SIGTERM, so a 1001
 * close), an article changes while the page is away, the worker comes back, and
 * the page resumes from its cursor and shows the change.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminEditArticle, adminLogin, clusterInfo, clusterWorker, nodeClient, openBrowser, screenshot,
} from '../helpers.mjs';

const cluster = clusterInfo();
const pageOn = cluster.workers[0]?.url ?? '';
const adminOn = cluster.workers[1]?.url ?? '';
/** @type {Awaited<ReturnType<typeof openBrowser>>} */
let browser;

before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

/** @param {import('playwright-core').Page} page @param {string} pk @param {string} title */
async function showsTitle(page, pk, title) {
  await page.locator(`#articles li[data-pk="${pk}"] .title`, { hasText: title }).waitFor();
}

/** @param {import('playwright-core').Page} page @param {number} index */
async function pkAt(page, index) {
  const pk = await page.locator('#articles li').nth(index).getAttribute('data-pk');
  assert.ok(pk);
  return pk;
}

test('the live page follows every kind of change and resumes after a dropped socket', async () => {
  const live = await browser.context.newPage();
  /** @type {string[]} */
  const sockets = [];
  live.on('websocket', (socket) => sockets.push(socket.url()));
  await live.goto(`${pageOn}/live/`);
  await live.locator('#status[data-status="ready"]').waitFor();
  await live.locator('#articles li').first().waitFor();
  assert.equal(await live.locator('#articles li').count(), 10);
  assert.deepEqual(browser.external, [], 'the page needs nothing off this machine');
  await screenshot(live, 'live-loaded');

  const admin = await browser.context.newPage();
  await adminLogin(admin, adminOn);

  // UPDATED: a new title from the admin, saved on the other worker.
  const top = await pkAt(live, 0);
  const renamed = `Renamed in the admin ${Date.now()}`;
  await adminEditArticle(admin, adminOn, top, { title: renamed });
  await showsTitle(live, top, renamed);

  // LEFT: unpublished, so out of the page's filter.
  await adminEditArticle(admin, adminOn, top, { published: false });
  await live.locator(`#articles li[data-pk="${top}"]`).waitFor({ state: 'detached' });
  assert.equal(await live.locator('#articles li').count(), 10, 'the next article moved up');

  // CREATED and DELETED by another client: ts_client in Node.
  const { articles, client } = await nodeClient(adminOn);
  const [some] = await articles.values('author_id').limit(1);
  assert.ok(some);
  const created = await articles.create({ title: `Written from Node ${Date.now()}`, content: 'c', author: some.author_id, published: true });
  await showsTitle(live, created.id, created.title);
  assert.equal(await pkAt(live, 0), created.id, 'the newest article comes first');
  await articles.delete(created.id);
  await live.locator(`#articles li[data-pk="${created.id}"]`).waitFor({ state: 'detached' });
  await screenshot(live, 'live-followed');

  // Drop the page's socket: stop its worker; change an article while it is away.
  const missed = await pkAt(live, 1);
  clusterWorker('stop', 1);
  await live.locator('#status[data-status="reconnecting"]').waitFor();
  const meanwhile = `Changed while the page was away ${Date.now()}`;
  await adminEditArticle(admin, adminOn, missed, { title: meanwhile });
  await screenshot(live, 'live-reconnecting');
  assert.notEqual(await live.locator(`#articles li[data-pk="${missed}"] .title`).textContent(), meanwhile);

  clusterWorker('start', 1);
  await live.locator('#status[data-status="ready"]').waitFor();
  await showsTitle(live, missed, meanwhile);
  await live.locator('#log li[data-op="UPDATED"]', { hasText: meanwhile }).waitFor();
  assert.ok(sockets.length >= 2, `the page opened a new socket (${sockets.length})`);
  await screenshot(live, 'live-resumed');
  assert.deepEqual(browser.external, []);
  await client.close();
  await admin.close();
  await live.close();
});
