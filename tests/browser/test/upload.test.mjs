// @ts-check
/**
 * A cover image chosen in a file input and sent by ts_client in chromium (the
 * browser's own FormData and File), with the session and CSRF token the admin
 * login left in the browser: stored by the cluster's workers with the project's
 * storage, its URL answered, the bytes on disk the ones chosen. The same from
 * GraphiQL: a file chosen in its file bar goes with the mutation (multipart).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { User } from 'django-graphql-realtime-client/generated';
import { adminLogin, clusterInfo, nodeClient, openBrowser } from '../helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const cluster = clusterInfo();
const base = cluster.balancer;
/** The smallest valid PNG (1x1, transparent). */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
/** @type {Awaited<ReturnType<typeof openBrowser>>} */
let browser;

/** ts_client's sources bundled for a page (esbuild, ts_client's dev dependency). */
async function clientBundle() {
  const esbuild = await import(join(root, 'ts_client', 'node_modules', 'esbuild', 'lib', 'main.js'));
  const src = join(root, 'ts_client', 'src');
  const result = await esbuild.build({
    stdin: {
      contents: `export * from './index.ts'; export * as models from './generated/models.ts';`,
      resolveDir: src, loader: 'ts',
    },
    bundle: true, format: 'iife', globalName: 'djangoTs', write: false, platform: 'browser',
  });
  return /** @type {string} */ (result.outputFiles[0].text);
}

before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

test('a file chosen in the page is uploaded by ts_client with the session', async () => {
  const { client } = await nodeClient(base);
  const author = await User.objects.using(client).first();
  assert.ok(author, 'the demo data has a user');
  const page = await browser.context.newPage();
  await adminLogin(page, base);
  await page.addScriptTag({ content: await clientBundle() });
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'cover';
    document.body.append(input);
  });
  await page.setInputFiles('#cover', { name: 'browser-cover.png', mimeType: 'image/png', buffer: PNG });
  const title = `browser upload ${Date.now()}`;
  const created = await page.evaluate(async ({ title, author }) => {
    const ts = /** @type {any} */ (window).djangoTs;
    const c = ts.createClient({ url: `${location.origin}/graphql` });
    const file = /** @type {HTMLInputElement} */ (document.querySelector('#cover')).files?.[0];
    const article = await ts.models.Article.objects.using(c).create({ title, content: 'c', author, cover: file });
    return { id: String(article.id), cover: article.cover };
  }, { title, author: author.id });
  assert.match(created.cover.name, /^covers\/browser-cover.*\.png$/);
  assert.equal(created.cover.url, `/media/${created.cover.name}`);
  // The workers store under the demo's MEDIA_ROOT (the repository's media/).
  const path = join(root, 'media', created.cover.name);
  assert.deepEqual(readFileSync(path), PNG);
  const [stored] = await client.request(
    `query($pk: ID!) { article(pk: $pk) { cover { name } } }`, { pk: created.id },
  ).then((/** @type {any} */ data) => [data.article]);
  assert.equal(stored.cover.name, created.cover.name);
  await client.request(`mutation($pk: ID!) { delete_article(pk: $pk) { ok } }`, { pk: created.id });
  rmSync(path);
  await page.close();
  await client.close();
});

test('a cover chosen in GraphiQL\'s file bar is sent with the mutation that declares its variable', async () => {
  const { client } = await nodeClient(base);
  const author = await User.objects.using(client).first();
  assert.ok(author, 'the demo data has a user');
  const page = await browser.context.newPage();
  await adminLogin(page, base);
  await page.goto(`${base}/graphql`);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  const title = `graphiql upload ${Date.now()}`;
  const query = 'mutation($data: ArticleCreateInput!) {\n  create_article(data: $data) { ok errors { field code } node { id cover { name url } } }\n}';
  await page.evaluate(({ query, variables }) => {
    const [editor] = /** @type {any[]} */ ([...document.querySelectorAll('.graphiql-query-editor .CodeMirror')]);
    const [vars] = /** @type {any[]} */ ([...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')]);
    editor.CodeMirror.setValue(query);
    vars.CodeMirror.setValue(variables);
  }, { query, variables: JSON.stringify({ data: { title, content: 'c', author: author.id } }) });
  await page.waitForFunction((text) => {
    const editor = /** @type {any} */ (document.querySelector('.graphiql-query-editor .CodeMirror'));
    return editor.CodeMirror.documentAST?.loc?.source?.body === text;
  }, query);
  // As a person would: choose the file in the bar (the variable path is already data.cover).
  assert.equal(await page.inputValue('#upload-path'), 'data.cover');
  await page.setInputFiles('#upload-file', { name: 'graphiql-cover.png', mimeType: 'image/png', buffer: PNG });
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return pane?.CodeMirror.getValue().includes('"ok"');
  });
  const answer = JSON.parse(await page.evaluate(() => {
    const pane = /** @type {any} */ (document.querySelector('.graphiql-response .CodeMirror'));
    return String(pane.CodeMirror.getValue());
  }));
  const created = answer.data.create_article;
  assert.equal(created.ok, true, JSON.stringify(answer));
  assert.match(created.node.cover.name, /^covers\/graphiql-cover.*\.png$/);
  assert.equal(created.node.cover.url, `/media/${created.node.cover.name}`);
  const path = join(root, 'media', created.node.cover.name);
  assert.deepEqual(readFileSync(path), PNG, 'the bytes on disk are the file chosen');
  assert.deepEqual(browser.external, []);
  await client.request(`mutation($pk: ID!) { delete_article(pk: $pk) { ok } }`, { pk: created.node.id });
  rmSync(path);
  await page.close();
  await client.close();
});
