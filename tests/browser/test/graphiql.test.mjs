// @ts-check
/** GraphiQL at /graphql in chromium, with every request off this machine blocked. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clusterInfo, nodeClient, openBrowser, screenshot } from '../helpers.mjs';

const cluster = clusterInfo();
const base = cluster.workers[0]?.url ?? '';
/** @type {Awaited<ReturnType<typeof openBrowser>>} */
let browser;

before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * Put a document in GraphiQL's editor (CodeMirror 5 keeps its instance on the
 * element; typing would fight the editor's auto-closed brackets) and run it.
 * @param {import('playwright-core').Page} page @param {string} query
 */
async function run(page, query) {
  await page.evaluate((text) => {
    const editor = /** @type {any} */ (document.querySelector('.graphiql-query-editor .CodeMirror'));
    editor.CodeMirror.setValue(text);
  }, query);
  // GraphiQL parses the editor's text 100 ms after a change, and picks HTTP or the
  // socket from that parse: run only once it has seen this document.
  await page.waitForFunction((text) => {
    const editor = /** @type {any} */ (document.querySelector('.graphiql-query-editor .CodeMirror'));
    return editor.CodeMirror.documentAST?.loc?.source?.body === text;
  }, query);
  await page.click('.graphiql-execute-button');
}

/** @param {import('playwright-core').Page} page */
async function response(page) {
  return page.evaluate(() => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return String(pane.CodeMirror.getValue());
  });
}

test('GraphiQL loads with no internet, runs a query and shows a subscription event', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/graphql`);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  assert.deepEqual(browser.external, [], 'the playground asked for nothing off this machine');

  const { articles, client } = await nodeClient(base);
  const [article] = await articles.filter({ published: true }).values('id', 'title').order_by('id').limit(1);
  assert.ok(article, 'the demo data has a published article');

  await run(page, `{\n  article_list(filters: {id: {exact: ${article.id}}}) {\n    id\n    title\n  }\n}`);
  await page.waitForFunction((title) => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return pane?.CodeMirror.getValue().includes(title);
  }, article.title);
  assert.deepEqual(JSON.parse(await response(page)), { data: { article_list: [{ id: article.id, title: article.title }] } });
  await screenshot(page, 'graphiql-query');

  await run(page, `subscription {\n  article_changes(filters: {id: {exact: ${article.id}}}) {\n    op\n    pk\n    node { title }\n  }\n}`);
  await page.waitForFunction(() => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return pane?.CodeMirror.getValue().includes('READY');
  });
  const title = `Saved while GraphiQL listens ${Date.now()}`;
  await articles.update(article.id, { title });
  await page.waitForFunction((expected) => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return pane?.CodeMirror.getValue().includes(expected);
  }, title);
  const event = JSON.parse(await response(page));
  assert.deepEqual(event.data.article_changes, { op: 'UPDATED', pk: article.id, node: { title } });
  await screenshot(page, 'graphiql-subscription');
  assert.deepEqual(browser.external, []);
  assert.deepEqual(browser.consoleErrors, []);
  await client.close();
  await page.close();
});
