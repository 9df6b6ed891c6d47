// @ts-check
/**
 * A save in the unchanged Django admin, in chromium, reaches a ts_client
 * subscriber in Node: on one worker, then across the cluster.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  adminEditArticle, adminLogin, clusterInfo, Events, nodeClient, openBrowser, screenshot, workerIndex,
} from '../helpers.mjs';

const cluster = clusterInfo();
/** @type {Awaited<ReturnType<typeof openBrowser>>} */
let browser;

before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * Subscribe to one article's changes through `base` with ts_client; resolves once
 * the subscription is READY.
 * @param {string} base
 */
async function follow(base) {
  const node = await nodeClient(base);
  const [article] = await node.articles.values('id', 'title').order_by('-id').limit(1);
  assert.ok(article);
  /** @type {Events<import('django-graphql-realtime-client').ChangeEvent<{ id: string, title: string }>>} */
  const events = new Events();
  const subscription = node.articles.filter({ id: article.id }).values('id', 'title').subscribe({
    onEvent: (event) => events.push(event),
  });
  await subscription.ready;
  return { ...node, article, events, subscription };
}

test('a save in the admin reaches a ts_client subscriber', async () => {
  const base = cluster.workers[0]?.url ?? '';
  const { article, events, subscription, client } = await follow(base);
  const page = await browser.context.newPage();
  await adminLogin(page, base);
  const title = `Edited in the admin ${Date.now()}`;
  await adminEditArticle(page, base, article.id, { title });
  await screenshot(page, 'admin-saved');

  const event = await events.next((e) => e.op === 'UPDATED');
  assert.equal(event.pk, article.id);
  assert.deepEqual(event.node, { id: article.id, title });
  assert.deepEqual(event.changed_fields, ['title']);
  subscription.unsubscribe();
  await client.close();
  await page.close();
});

test('across the cluster: subscriber through the balancer, the admin on the other worker', async () => {
  const { article, events, subscription, client, upstreams } = await follow(cluster.balancer);
  assert.equal(upstreams.length, 1);
  const subscriberOn = workerIndex(cluster, upstreams[0] ?? '');
  assert.ok(subscriberOn >= 0, `the balancer named a worker: ${upstreams[0]}`);
  const other = cluster.workers[1 - subscriberOn]?.url ?? '';

  await browser.context.clearCookies(); // log in again, on that worker
  const page = await browser.context.newPage();
  await adminLogin(page, other);
  const title = `Edited on the other worker ${Date.now()}`;
  await adminEditArticle(page, other, article.id, { title });
  await screenshot(page, 'admin-saved-other-worker');

  const event = await events.next((e) => e.op === 'UPDATED' && e.node?.title === title);
  assert.equal(event.pk, article.id);
  assert.equal(upstreams.length, 1, 'the subscriber never had to reconnect');
  subscription.unsubscribe();
  await client.close();
  await page.close();
});
