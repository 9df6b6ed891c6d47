// @ts-check
/**
 * /live/'s dashboard and tasks sections, in chromium, used as a person would.
 * The dashboard's figures are checked against the rows the API lists (not its
 * aggregates): anonymous users count published articles only, a viewer every
 * article, and publishing a draft in the real admin form changes the figures on
 * the open page. The tasks section starts the demo's Celery tasks on the cluster's
 * worker: the export's progress and its CSV (downloaded, its rows counted), an
 * email sent, an email that fails, and a start refused to an anonymous user.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, adminEditArticle, adminLogin, clusterInfo, nodeClient, openBrowser, screenshot } from '../helpers.mjs';

const cluster = clusterInfo();
const pageOn = cluster.workers[0]?.url ?? '';
const otherWorker = cluster.workers[1]?.url ?? '';
const EDITOR = { username: 'editor', password: ADMIN.password };
const VIEWER = { username: 'viewer', password: ADMIN.password };
const TASK_MS = 90_000;

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

/** What the dashboard should say, from the rows themselves (listed by the admin's client). */
async function expected(/** @type {boolean} */ onlyPublished) {
  const rows = await (onlyPublished ? api.articles.filter({ published: true }) : api.articles.all())
    .values('id', 'author_id', 'published');
  return {
    articles: rows.length,
    authors: new Set(rows.map((r) => r.author_id)).size,
    published: rows.filter((r) => r.published).length,
    drafts: rows.filter((r) => !r.published).length,
  };
}

/** @param {import('playwright-core').Page} page @param {string} stat */
const figure = (page, stat) => page.locator(`#dashboard [data-stat="${stat}"] dd`);
/** @param {import('playwright-core').Page} page @param {boolean} published */
const statusCount = (page, published) => page.locator(`#by-status tr[data-published="${published}"] .n`);

/** Wait until the dashboard shows these figures. @param {import('playwright-core').Page} page */
async function showsFigures(page, /** @type {Awaited<ReturnType<typeof expected>>} */ want, drafts = true) {
  await figure(page, 'articles').filter({ hasText: new RegExp(`^${want.articles}$`) }).waitFor();
  assert.equal(await figure(page, 'authors').textContent(), String(want.authors));
  assert.equal(await statusCount(page, true).textContent(), String(want.published));
  if (drafts && want.drafts) assert.equal(await statusCount(page, false).textContent(), String(want.drafts));
  else assert.equal(await statusCount(page, false).count(), 0, 'no draft row');
}

/** Log in through the page's own form. @param {import('playwright-core').Page} page */
async function logIn(page, /** @type {{ username: string, password: string }} */ account) {
  await page.fill('#login input[name=username]', account.username);
  await page.fill('#login input[name=password]', account.password);
  await page.click('#login button[type=submit]');
  await page.locator('#who', { hasText: account.username }).waitFor();
}

test('the dashboard counts what the user may read, and follows a change made in the admin', async () => {
  await reader.context.clearCookies();
  const page = await reader.context.newPage();
  await page.goto(`${pageOn}/live/`);
  await page.locator('#dashboard').waitFor();
  const before = await expected(true);
  assert.ok(before.articles > 0, 'the seed has published articles');
  await showsFigures(page, before, false);

  // A draft published in the real admin form (another worker): the open page recounts.
  const [draft] = await api.articles.filter({ published: false }).order_by('id').values('id').limit(1);
  assert.ok(draft, 'the seed has a draft');
  const adminPage = await admin.context.newPage();
  await adminLogin(adminPage, otherWorker);
  await adminEditArticle(adminPage, otherWorker, draft.id, { published: true });
  const published = await expected(true);
  assert.equal(published.articles, before.articles + 1);
  await showsFigures(page, published, false);
  await screenshot(page, 'live-dashboard-anonymous');
  await adminEditArticle(adminPage, otherWorker, draft.id, { published: false });
  await showsFigures(page, before, false);

  // A viewer (Django's view permission on articles) counts the drafts too.
  await logIn(page, VIEWER);
  const everything = await expected(false);
  assert.ok(everything.drafts > 0);
  await showsFigures(page, everything);
  await screenshot(page, 'live-dashboard-viewer');
  assert.deepEqual(reader.external, [], 'the page needs nothing off this machine');
  await adminPage.close();
  await page.close();
});

/** The newest run of a task in the list. @param {import('playwright-core').Page} page @param {string} task */
const newestRun = (page, task) => page.locator(`#runs > li[data-task="${task}"]`).first();

test('tasks: the export shows its progress and its CSV, emails succeed or fail, anonymous is refused', async () => {
  await reader.context.clearCookies();
  const page = await reader.context.newPage();
  await page.goto(`${pageOn}/live/`);
  await page.locator('#tasks').waitFor();

  // Anonymous: the API refuses the start, and the page says so.
  await page.click('#start-export');
  await page.locator('#tasks .errornote', { hasText: 'You may not do that.' }).waitFor();
  assert.equal(await page.locator('#runs > li').count(), 0, 'no run was started');

  await logIn(page, EDITOR);
  const published = (await expected(true)).articles;
  await page.click('#start-export');
  const run = newestRun(page, 'export_published_articles');
  await run.waitFor();
  await page.locator('#runs > li[data-task="export_published_articles"][data-state="SUCCESS"]').waitFor({ timeout: TASK_MS });
  assert.equal(await run.locator('progress').getAttribute('max'), String(published), 'progress counts the published articles');
  assert.equal(await run.locator('progress').getAttribute('value'), String(published));
  const link = run.locator('a.result');
  assert.equal(await link.textContent(), `Download (${published} rows)`);
  const href = await link.getAttribute('href');
  assert.match(href ?? '', /^\/exports\/articles-[\w-]+\.csv$/);
  const csv = await (await page.request.get(`${pageOn}${href}`)).text();
  assert.equal(csv.trim().split(/\r?\n/).length, published + 1, 'a header and one line per published article');
  await screenshot(page, 'live-tasks-export');

  // An email to a real user succeeds; one without a template fails, with the task's error.
  const [user] = /** @type {{ user_list: { id: string, email: string }[] }} */ (
    await api.client.request('{ user_list(limit: 1, ordering: [{id: ASC}]) { id email } }')).user_list;
  assert.ok(user);
  await page.fill('#send-email input[name=user_id]', user.id);
  await page.selectOption('#send-email select[name=template]', 'welcome');
  await page.click('#send-email button[type=submit]');
  const sent = page.locator('#runs > li[data-task="send_welcome_email"][data-state="SUCCESS"]');
  await sent.waitFor({ timeout: TASK_MS });
  assert.deepEqual(JSON.parse(await sent.locator('.result').textContent() ?? 'null'),
    { to: user.email, template: 'welcome', sent: 1 });
  await page.selectOption('#send-email select[name=template]', 'farewell');
  await page.click('#send-email button[type=submit]');
  const failed = page.locator('#runs > li[data-task="send_welcome_email"][data-state="FAILURE"]');
  await failed.waitFor({ timeout: TASK_MS });
  assert.match(await failed.locator('.errornote').textContent() ?? '', /Unknown template 'farewell'/);
  await screenshot(page, 'live-tasks-email');
  assert.deepEqual(reader.external, []);
  await page.close();
});
