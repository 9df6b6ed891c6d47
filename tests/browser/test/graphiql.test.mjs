// @ts-check
/** GraphiQL at /graphql in chromium, with every request off this machine blocked. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminLogin, clusterInfo, nodeClient, openBrowser, screenshot } from '../helpers.mjs';

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

test('a staff user browses the Docs panel to Article and completes a field by typing', async () => {
  const page = await browser.context.newPage();
  await adminLogin(page, base);
  await page.goto(`${base}/graphql`);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  assert.equal(await page.locator('.introspection-note').count(), 0, 'staff may introspect: no note');

  // The Docs panel loads the schema by the standard introspection query.
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('Root Types').waitFor();
  assert.equal(await docs.getByText('Error fetching schema').count(), 0);
  await docs.locator('[data-cy=doc-explorer-input]').fill('Article');
  await docs.locator('[data-cy=doc-explorer-option]', { hasText: /^Article$/ }).click();
  await docs.locator('.graphiql-doc-explorer-title', { hasText: /^Article$/ }).waitFor();
  const fields = await docs.locator('.graphiql-doc-explorer-field-name').allTextContents();
  for (const name of ['title', 'author', 'tags', 'comment_set']) assert.ok(fields.includes(name), `Article has ${name}: ${fields}`);
  await screenshot(page, 'graphiql-docs-article');

  // Completion: type into the editor as a person does; the hint list offers the field.
  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('{ article_list(limit: 1) { ti');
  const hint = page.locator('.CodeMirror-hints .CodeMirror-hint', { hasText: /^title$/ });
  await hint.waitFor();
  await screenshot(page, 'graphiql-completion');
  await hint.click();
  const text = await page.evaluate(() => {
    const cm = /** @type {any} */ (document.querySelector('.graphiql-query-editor .CodeMirror'));
    return String(cm.CodeMirror.getValue());
  });
  assert.match(text, /article_list\(limit: 1\) \{ title\s*\}/, text);
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return pane?.CodeMirror.getValue().includes('"title"');
  });
  const result = JSON.parse(await response(page));
  assert.equal(result.errors, undefined, JSON.stringify(result));
  assert.equal(typeof result.data.article_list[0].title, 'string');
  assert.deepEqual(browser.external, []);
  await page.close();
});
